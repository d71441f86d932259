#include "tensors/convert.h"

#include <cstring>

namespace zerolm {

static_assert(sizeof(float) == 4, "float32 expected");

namespace {

bool little_endian_host() {
  const uint16_t probe = 1;
  uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

inline uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

inline float bits_to_float(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// binary16 -> float32 through a table of all 65536 halves, built once (thread-safe static init).
struct HalfTable {
  float values[65536];
  HalfTable() {
    for (uint32_t h = 0; h < 65536; ++h) values[h] = half_to_float(static_cast<uint16_t>(h));
  }
};

const HalfTable& half_table() {
  static const HalfTable table;
  return table;
}

// Converts `count` consecutive elements starting at `source`.
void convert_run(const uint8_t* source, TensorDtype dtype, size_t count, float* out, bool native_order) {
  switch (dtype) {
    case TensorDtype::F32:
      if (native_order) {
        std::memcpy(out, source, count * 4);
      } else {
        for (size_t i = 0; i < count; ++i) out[i] = bits_to_float(load_u32(source + 4 * i));
      }
      return;
    case TensorDtype::BF16:
      for (size_t i = 0; i < count; ++i) out[i] = bits_to_float(static_cast<uint32_t>(load_u16(source + 2 * i)) << 16);
      return;
    case TensorDtype::F16: {
      const float* table = half_table().values;
      for (size_t i = 0; i < count; ++i) out[i] = table[load_u16(source + 2 * i)];
      return;
    }
  }
}

}  // namespace

bool parse_tensor_dtype(const std::string& name, TensorDtype& dtype) {
  if (name == "F32") dtype = TensorDtype::F32;
  else if (name == "F16") dtype = TensorDtype::F16;
  else if (name == "BF16") dtype = TensorDtype::BF16;
  else return false;
  return true;
}

size_t dtype_bytes(TensorDtype dtype) { return dtype == TensorDtype::F32 ? 4 : 2; }

float half_to_float(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f) return bits_to_float(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN (payload kept)
  if (exponent != 0) return bits_to_float(sign | ((exponent + 112) << 23) | (mantissa << 13));
  if (mantissa == 0) return bits_to_float(sign);  // signed zero
  // Subnormal half: normalise into a float32 normal.
  int shift = 0;
  while ((mantissa & 0x400u) == 0) {
    mantissa <<= 1;
    ++shift;
  }
  mantissa &= 0x3ffu;
  return bits_to_float(sign | (static_cast<uint32_t>(113 - shift) << 23) | (mantissa << 13));
}

void gather_to_float32(const uint8_t* source, TensorDtype dtype, size_t source_cols, const uint32_t* rows,
                       size_t row_count, const uint32_t* cols, size_t col_count, float* out) {
  const size_t element = dtype_bytes(dtype);
  const size_t row_bytes = source_cols * element;
  const bool native_order = little_endian_host();
  for (size_t i = 0; i < row_count; ++i) {
    const uint8_t* row = source + (rows != nullptr ? static_cast<size_t>(rows[i]) : i) * row_bytes;
    float* target = out + i * col_count;
    if (cols == nullptr) {
      convert_run(row, dtype, col_count, target, native_order);
      continue;
    }
    // Runs of consecutive columns (a pruned matrix keeps long ones) convert as one run.
    size_t j = 0;
    while (j < col_count) {
      size_t end = j + 1;
      while (end < col_count && cols[end] == cols[end - 1] + 1) ++end;
      convert_run(row + static_cast<size_t>(cols[j]) * element, dtype, end - j, target + j, native_order);
      j = end;
    }
  }
}

}  // namespace zerolm
