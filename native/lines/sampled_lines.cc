#include "lines/sampled_lines.h"

#include <cstring>

namespace zerolm {
namespace {

constexpr char kRootStart[] = "{\"id\":\"";
constexpr char kHiddenKey[] = "\",\"hidden_size\":";
constexpr char kLayersKey[] = ",\"nas_config\":{\"encoder_layers\":[";
constexpr char kTypeKey[] = "{\"operation_type\":\"";
constexpr char kParameterKey[] = "\",\"operation_parameter\":";
constexpr char kHeadsKey[] = ",\"num_operation_heads\":";
constexpr char kWidthKey[] = ",\"feed_forward_dimension\":";
constexpr char kCountKey[] = ",\"num_feed_forward\":";
// Digits in an accepted integer: every such integer is below 2^53, so it is exact in a double.
constexpr size_t kMaxDigits = 15;

// One line: [begin, end) of the buffer that starts at `base`.
class LineReader {
 public:
  LineReader(const uint8_t* base, size_t begin, size_t end) : base_(base), p_(begin), end_(end) {}

  size_t position() const { return p_; }

  // Whether the literal (N - 1 bytes) sits here; steps over it if so.
  template <size_t N>
  bool literal(const char (&text)[N]) {
    constexpr size_t length = N - 1;
    if (end_ - p_ < length || std::memcmp(base_ + p_, text, length) != 0) return false;
    p_ += length;
    return true;
  }

  // Plain string content (bytes 0x20-0x7E other than '"' and '\'): steps to its closing quote, which must exist.
  bool plain() {
    for (size_t p = p_; p < end_; p++) {
      const uint8_t byte = base_[p];
      if (byte == '"') {
        p_ = p;
        return true;
      }
      if (byte == '\\' || byte < 0x20 || byte > 0x7e) return false;
    }
    return false;
  }

  // '0' | [1-9][0-9]{0,14}: steps over it and gives its value.
  bool integer(double& value) {
    size_t p = p_;
    double sum = 0;
    while (p < end_ && base_[p] >= '0' && base_[p] <= '9') {
      sum = sum * 10 + (base_[p] - '0');
      p++;
    }
    const size_t digits = p - p_;
    if (digits == 0 || digits > kMaxDigits || (digits > 1 && base_[p_] == '0')) return false;
    value = sum;
    p_ = p;
    return true;
  }

  bool byte(uint8_t expected) {
    if (p_ >= end_ || base_[p_] != expected) return false;
    p_++;
    return true;
  }

  bool at_end() const { return p_ == end_; }

 private:
  const uint8_t* base_;
  size_t p_;
  size_t end_;
};

// Scans one line; on success appends its layers and fills its id and hidden size. On failure `layers` may hold
// partial layers past `first`, which the caller drops.
bool scan_line(const uint8_t* bytes, size_t begin, size_t end, SampledLinesScan& scan, int32_t* line, double& hidden) {
  LineReader r(bytes, begin, end);
  if (!r.literal(kRootStart)) return false;
  const size_t id_start = r.position();
  if (!r.plain()) return false;
  line[kLineIdStart] = static_cast<int32_t>(id_start);
  line[kLineIdEnd] = static_cast<int32_t>(r.position());
  if (!r.literal(kHiddenKey) || !r.integer(hidden) || !r.literal(kLayersKey)) return false;
  int32_t count = 0;
  for (;;) {
    double layer[kLayerFields];
    if (!r.literal(kTypeKey)) return false;
    layer[kLayerTypeStart] = static_cast<double>(r.position());
    if (!r.plain()) return false;
    layer[kLayerTypeEnd] = static_cast<double>(r.position());
    if (!r.literal(kParameterKey)) return false;
    if (r.byte('"')) {
      layer[kLayerParameterStart] = static_cast<double>(r.position());
      if (!r.plain()) return false;
      layer[kLayerParameterEnd] = static_cast<double>(r.position());
      layer[kLayerParameterValue] = 0;
      r.byte('"');
    } else {
      layer[kLayerParameterStart] = -1;
      layer[kLayerParameterEnd] = -1;
      if (!r.integer(layer[kLayerParameterValue])) return false;
    }
    if (!r.literal(kHeadsKey) || !r.integer(layer[kLayerHeads])) return false;
    if (!r.literal(kWidthKey) || !r.integer(layer[kLayerWidth])) return false;
    if (!r.literal(kCountKey) || !r.integer(layer[kLayerCount]) || !r.byte('}')) return false;
    scan.layers.insert(scan.layers.end(), layer, layer + kLayerFields);
    count++;
    if (!r.byte(',')) break;
  }
  line[kLineLayerCount] = count;
  return r.byte(']') && r.byte('}') && r.byte('}') && r.at_end();
}

}  // namespace

void scan_sampled_lines(const uint8_t* bytes, size_t length, SampledLinesScan& scan) {
  scan.lines.clear();
  scan.hidden.clear();
  scan.layers.clear();
  size_t start = 0;
  while (start < length) {
    const void* found = std::memchr(bytes + start, '\n', length - start);
    const size_t end = found != nullptr ? static_cast<size_t>(static_cast<const uint8_t*>(found) - bytes) : length;
    int32_t line[kLineFields] = {static_cast<int32_t>(start), static_cast<int32_t>(end), -1, 0, 0, 0};
    double hidden = 0;
    const size_t first = scan.layers.size() / kLayerFields;
    if (scan_line(bytes, start, end, scan, line, hidden)) {
      line[kLineFirstLayer] = static_cast<int32_t>(first);
    } else {
      scan.layers.resize(first * kLayerFields);
      line[kLineLayerCount] = 0;
      line[kLineIdStart] = 0;
      line[kLineIdEnd] = 0;
      hidden = 0;
    }
    scan.lines.insert(scan.lines.end(), line, line + kLineFields);
    scan.hidden.push_back(hidden);
    start = end + 1;
  }
}

}  // namespace zerolm
