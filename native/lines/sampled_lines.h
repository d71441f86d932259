// The byte-level reader of the lines `zerolm sample nas-bench-bert` writes, for whole buffers of JSONL at a time.
// Plain C++17, no N-API. It recognises exactly the canonical form that src/search/sampled-lines.ts documents (tested
// against a regular expression of that form, and against JSON.parse for what it reads on the lines it accepts).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zerolm {

// Numbers per line in SampledLinesScan::lines.
enum SampledLineField : int {
  kLineStart = 0,    // the line's first byte
  kLineEnd,          // one past its last byte (its newline, or the end of the buffer)
  kLineFirstLayer,   // index of its first layer in `layers` (in layers), or -1 when the line is not canonical
  kLineLayerCount,
  kLineIdStart,      // the id's first byte (0 when the line is not canonical)
  kLineIdEnd,
  kLineFields,
};

// Numbers per layer in SampledLinesScan::layers (the order src/search/sampled-lines.ts reads).
enum SampledLayerField : int {
  kLayerTypeStart = 0,
  kLayerTypeEnd,
  kLayerParameterStart,  // -1 when the parameter is an integer (then kLayerParameterValue holds it)
  kLayerParameterEnd,
  kLayerParameterValue,
  kLayerHeads,
  kLayerWidth,
  kLayerCount,
  kLayerFields,
};

struct SampledLinesScan {
  std::vector<int32_t> lines;   // kLineFields per line
  std::vector<double> hidden;   // hidden_size per line (0 when not canonical)
  std::vector<double> layers;   // kLayerFields per layer: byte offsets and integers below 2^53, exact in a double
};

// Splits bytes[0, length) at '\n' (a last piece without one is a line too, unless it is empty) and scans each line.
// Offsets are from bytes[0]. Buffers of 2^31 bytes or more are refused by the caller.
void scan_sampled_lines(const uint8_t* bytes, size_t length, SampledLinesScan& scan);

}  // namespace zerolm
