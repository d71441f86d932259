// Conversion of stored tensors (safetensors' raw little-endian data) to float32, with an optional gather of rows and
// columns: fused projections are split and pruned sub-networks sliced while converting, so no copy of a whole tensor
// is ever made in float32 beyond what is scored. Plain C++17, no N-API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace zerolm {

enum class TensorDtype { F32, F16, BF16 };

// Parses "F32", "F16" or "BF16"; false for anything else.
bool parse_tensor_dtype(const std::string& name, TensorDtype& dtype);

size_t dtype_bytes(TensorDtype dtype);

// Writes out[i * col_count + j] = source[row(i), col(j)] as float32, where the source is a row-major
// source_rows x source_cols tensor of `dtype`, row(i) = rows[i] (or i when rows is null) and likewise for columns.
// The caller checks that every index is in range and that source holds source_rows * source_cols elements.
void gather_to_float32(const uint8_t* source, TensorDtype dtype, size_t source_cols, const uint32_t* rows,
                       size_t row_count, const uint32_t* cols, size_t col_count, float* out);

// One IEEE half (binary16) as float32: normals, subnormals, infinities and NaNs exactly.
float half_to_float(uint16_t half);

}  // namespace zerolm
