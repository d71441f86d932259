// N-API surface only: unpack arguments, queue workers, settle promises, map errors.
// Context-aware (one ZeroLMAddon per environment, no static JS state), so it loads in several worker_threads.
// src/native.ts validates everything first; the checks here are cheap repeats that keep bad input from ever
// reaching the engine. Errors carry a `code` property that src/native.ts maps onto ZeroLMError.
#include <napi.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "spectrum/kernels.h"
#include "spectrum/philox.h"
#include "spectrum/spectrum.h"
#include "spectrum/team.h"
#include "tensors/convert.h"

namespace {

constexpr int kAbiVersion = 7;
constexpr double kMaxDimension = 2147483647.0;
constexpr int kMaxThreads = zerolm::kMaxConcurrency;

struct AddonError {
  const char* code;
  std::string message;
};

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

[[noreturn]] void fail(const char* code, const std::string& message) { throw AddonError{code, message}; }

double number_field(const Napi::Object& object, const char* key, const std::string& where) {
  const Napi::Value value = object.Get(key);
  if (!value.IsNumber()) fail("E_ARGUMENT", where + "." + key + " must be a number");
  return value.As<Napi::Number>().DoubleValue();
}

size_t dimension_field(const Napi::Object& object, const char* key, const std::string& where) {
  const double value = number_field(object, key, where);
  if (!(value >= 1 && value <= kMaxDimension && std::floor(value) == value))
    fail("E_SHAPE", where + "." + key + " must be a positive integer");
  return static_cast<size_t>(value);
}

uint32_t uint32_field(const Napi::Object& object, const char* key, const std::string& where) {
  const double value = number_field(object, key, where);
  if (!(value >= 0 && value <= 4294967295.0 && std::floor(value) == value))
    fail("E_ARGUMENT", where + "." + key + " must be an unsigned 32-bit integer");
  return static_cast<uint32_t>(value);
}

double positive_field(const Napi::Object& object, const char* key, const std::string& where) {
  const double value = number_field(object, key, where);
  if (!(std::isfinite(value) && value > 0)) fail("E_NON_FINITE", where + "." + key + " must be finite and positive");
  return value;
}

zerolm::Route parse_route(const Napi::Object& job, const std::string& where) {
  const Napi::Value value = job.Get("route");
  if (value.IsUndefined()) return zerolm::Route::Full;
  const std::string route = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
  if (route == "full") return zerolm::Route::Full;
  if (route == "sumSquares") return zerolm::Route::SumSquares;
  if (route == "logDet") return zerolm::Route::LogDet;
  if (route == "top") return zerolm::Route::Top;
  fail("E_ARGUMENT", where + ".route must be 'full', 'sumSquares', 'logDet' or 'top'");
}

zerolm::Generator parse_generator(const Napi::Object& job, const std::string& where) {
  const Napi::Value value = job.Get("generator");
  if (value.IsUndefined()) return zerolm::Generator::Weights;
  const std::string generator = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
  if (generator == "weights") return zerolm::Generator::Weights;
  if (generator == "bidiagonal") return zerolm::Generator::Bidiagonal;
  fail("E_ARGUMENT", where + ".generator must be 'weights' or 'bidiagonal'");
}

zerolm::Distribution parse_distribution(const Napi::Value& value, const std::string& where) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
  if (name == "normal") return zerolm::Distribution::Normal;
  if (name == "uniform") return zerolm::Distribution::Uniform;
  fail("E_ARGUMENT", where + " must be 'normal' or 'uniform'");
}

// Unpacks jobs[]; keeps a reference to every Float32Array so that it outlives an asynchronous batch.
// Reading a field may run a caller's getter, and a getter may change anything read before it (the array's
// length, an earlier job's buffer). So the length is read once, every field of every job is read first, and
// only then, with no more JS to run, are the buffers' addresses and lengths taken and checked.
std::vector<zerolm::MatrixJob> parse_jobs(const Napi::Value& value,
                                          std::vector<Napi::Reference<Napi::Float32Array>>* keep_alive) {
  if (!value.IsArray()) fail("E_ARGUMENT", "jobs must be an array");
  const Napi::Array array = value.As<Napi::Array>();
  const uint32_t length = array.Length();
  std::vector<zerolm::MatrixJob> jobs(length);
  std::vector<std::pair<uint32_t, Napi::Value>> value_arrays;  // (job index, its values) for the second pass
  for (uint32_t i = 0; i < length; ++i) {
    const std::string where = "jobs[" + std::to_string(i) + "]";
    const Napi::Value entry = array.Get(i);  // undefined if a getter has shrunk the array since
    if (!entry.IsObject()) fail("E_ARGUMENT", where + " must be an object");
    const Napi::Object job = entry.As<Napi::Object>();
    zerolm::MatrixJob& out = jobs[i];
    out.rows = dimension_field(job, "rows", where);
    out.cols = dimension_field(job, "cols", where);
    if (static_cast<double>(out.rows) * static_cast<double>(out.cols) > 9007199254740991.0)
      fail("E_SHAPE", where + ": rows * cols is too large");
    out.route = parse_route(job, where);
    out.generator = parse_generator(job, where);  // for every job: validate_job refuses a generator given values
    const Napi::Value values = job.Get("values");
    if (!values.IsUndefined()) {
      if (!values.IsTypedArray() || values.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail("E_ARGUMENT", where + ".values must be a Float32Array");
      value_arrays.emplace_back(i, values);
    } else {
      out.distribution = parse_distribution(job.Get("distribution"), where + ".distribution");
      out.scale = positive_field(job, "scale", where);
      out.seed = uint32_field(job, "seed", where);
      out.stream = uint32_field(job, "stream", where);
    }
  }
  // No JS runs from here on: what is read now is what the engine gets.
  for (const auto& [i, values] : value_arrays) {
    const std::string where = "jobs[" + std::to_string(i) + "]";
    zerolm::MatrixJob& out = jobs[i];
    napi_typedarray_type type = napi_int8_array;
    size_t elements = 0;
    void* data = nullptr;
    napi_value buffer = nullptr;
    if (napi_get_typedarray_info(values.Env(), values, &type, &elements, &data, &buffer, nullptr) != napi_ok ||
        type != napi_float32_array)
      fail("E_ARGUMENT", where + ".values must be a Float32Array");
    bool detached = false;
    if (buffer != nullptr && napi_is_detached_arraybuffer(values.Env(), buffer, &detached) == napi_ok && detached)
      fail("E_ARGUMENT", where + ".values: its buffer was detached (transferred) while the jobs were read");
    if (elements != out.rows * out.cols)
      fail("E_SHAPE", where + ".values has " + std::to_string(elements) + " elements, rows * cols = " +
                          std::to_string(out.rows * out.cols));
    if (data == nullptr) fail("E_ARGUMENT", where + ".values has no memory (a detached buffer?)");
    out.values = static_cast<const float*>(data);  // honours byteOffset
  }
  for (uint32_t i = 0; i < length; ++i) {
    const std::string problem = zerolm::validate_job(jobs[i]);
    if (!problem.empty()) fail("E_ARGUMENT", "jobs[" + std::to_string(i) + "]: " + problem);
  }
  if (keep_alive != nullptr)
    for (const auto& entry : value_arrays) keep_alive->push_back(Napi::Persistent(entry.second.As<Napi::Float32Array>()));
  return jobs;
}

int parse_threads(const Napi::Value& value) {
  if (value.IsUndefined()) return zerolm::concurrency_limit();
  if (!value.IsNumber()) fail("E_ARGUMENT", "threads must be a number");
  const double threads = value.As<Napi::Number>().DoubleValue();
  if (!(threads >= 1 && threads <= kMaxThreads && std::floor(threads) == threads))
    fail("E_ARGUMENT", "threads must be an integer from 1 to 1024");
  return static_cast<int>(threads);
}

Napi::Array results_to_js(Napi::Env env, const std::vector<zerolm::SpectrumResult>& results) {
  Napi::Array array = Napi::Array::New(env, results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    const zerolm::SpectrumResult& result = results[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("sumSquares", result.sum_squares);
    object.Set("maxAbs", result.max_abs);
    object.Set("mean", result.mean);
    object.Set("variance", result.variance);
    if (!result.singular_values.empty()) {
      Napi::Float64Array values = Napi::Float64Array::New(env, result.singular_values.size());
      std::copy(result.singular_values.begin(), result.singular_values.end(), values.Data());
      object.Set("singularValues", values);
    }
    if (result.has_log_det) object.Set("logDet", result.log_det);
    if (result.has_top) object.Set("top", result.top);
    array.Set(static_cast<uint32_t>(i), object);
  }
  return array;
}

Napi::Error outcome_error(Napi::Env env, const zerolm::BatchOutcome& outcome) {
  if (outcome.status == zerolm::BatchStatus::Cancelled) return make_error(env, "E_ABORTED", "The operation was aborted");
  return make_error(env, "E_NATIVE", outcome.message);
}

// Runs `body`, turning AddonError and any C++ exception into a thrown JS error with a code.
template <typename Body>
Napi::Value guarded(Napi::Env env, Body body) {
  try {
    return body();
  } catch (const AddonError& error) {
    throw make_error(env, error.code, error.message);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw make_error(env, "E_NATIVE", "out of memory");
  } catch (const std::exception& error) {
    throw make_error(env, "E_NATIVE", error.what());
  }
}

// Whether JS may run in `env` now. A property set on a fresh object passes the same gate as a call into JS;
// it fails (with no exception pending) once the environment is stopping: a worker being terminated or exiting.
bool can_run_js(napi_env env) {
  napi_value object = nullptr;
  napi_value probe = nullptr;
  if (napi_create_object(env, &object) != napi_ok || napi_get_boolean(env, true, &probe) != napi_ok) return false;
  return napi_set_named_property(env, object, "probe", probe) == napi_ok;
}

// An Error with a `code`, built with raw napi calls that report failure (nullptr) instead of throwing.
napi_value raw_error(napi_env env, const char* code, const std::string& message) {
  napi_value code_value = nullptr;
  napi_value message_value = nullptr;
  napi_value error = nullptr;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok ||
      napi_create_string_utf8(env, message.data(), message.size(), &message_value) != napi_ok ||
      napi_create_error(env, code_value, message_value, &error) != napi_ok)
    return nullptr;
  return error;
}

// Batches still running in this environment; shared with the workers so either side may go first.
struct LiveBatches {
  std::mutex mutex;
  std::set<std::shared_ptr<zerolm::BatchControl>> controls;
  void add(const std::shared_ptr<zerolm::BatchControl>& control) {
    std::lock_guard<std::mutex> lock(mutex);
    controls.insert(control);
  }
  void remove(const std::shared_ptr<zerolm::BatchControl>& control) {
    std::lock_guard<std::mutex> lock(mutex);
    controls.erase(control);
  }
  void cancel_all() {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& control : controls) control->cancel.store(true);
  }
};

class ZeroLMAddon : public Napi::Addon<ZeroLMAddon> {
 public:
  ZeroLMAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceMethod("spectraSync", &ZeroLMAddon::SpectraSync),
                             InstanceMethod("spectraAsync", &ZeroLMAddon::SpectraAsync),
                             InstanceMethod("fill", &ZeroLMAddon::Fill),
                             InstanceMethod("simd", &ZeroLMAddon::Simd),
                             InstanceMethod("defaultThreads", &ZeroLMAddon::DefaultThreads),
                             InstanceMethod("concurrency", &ZeroLMAddon::Concurrency),
                             InstanceMethod("availableCores", &ZeroLMAddon::AvailableCores),
                             InstanceMethod("philox4x32_10", &ZeroLMAddon::Philox),
                             InstanceMethod("convertTensor", &ZeroLMAddon::ConvertTensor),
                             InstanceValue("abiVersion", Napi::Number::New(env, kAbiVersion)),
                         });
    // At environment teardown (a worker thread terminated or exiting) stop running batches, so that Node's wait
    // for them is short. The hook owns its own share of live_, since the addon may be finalized first.
    auto hook_live = std::make_unique<std::shared_ptr<LiveBatches>>(live_);
    if (napi_add_env_cleanup_hook(env, &ZeroLMAddon::CancelAtTeardown, hook_live.get()) == napi_ok)
      hook_live.release();  // the hook's from now on
  }

  ~ZeroLMAddon() { live_->cancel_all(); }

 private:
  static void CancelAtTeardown(void* arg) {
    const std::unique_ptr<std::shared_ptr<LiveBatches>> live(static_cast<std::shared_ptr<LiveBatches>*>(arg));
    (*live)->cancel_all();
  }

  // spectraSync(jobs, threads?) -> results[]
  Napi::Value SpectraSync(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const std::vector<zerolm::MatrixJob> jobs = parse_jobs(info[0], nullptr);
      const int threads = parse_threads(info[1]);
      std::vector<zerolm::SpectrumResult> results;
      zerolm::BatchControl control;
      const zerolm::BatchOutcome outcome = zerolm::run_batch(jobs, results, threads, control);
      if (outcome.status != zerolm::BatchStatus::Ok) throw outcome_error(info.Env(), outcome);
      return results_to_js(info.Env(), results);
    });
  }

  // spectraAsync(jobs, threads?, onProgress?) -> { promise, cancel() }
  Napi::Value SpectraAsync(const Napi::CallbackInfo& info);

  // fill('normal' | 'uniform', target: Float32Array, scale, seed, stream): values 0..length-1 of the stream
  // written into target (allocated by the caller, so it belongs to the caller's realm).
  Napi::Value Fill(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const zerolm::Distribution distribution = parse_distribution(info[0], "distribution");
      if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail("E_ARGUMENT", "fill: target must be a Float32Array");
      Napi::Float32Array target = info[1].As<Napi::Float32Array>();
      Napi::Object arguments = Napi::Object::New(info.Env());
      arguments.Set("scale", info[2]);
      arguments.Set("seed", info[3]);
      arguments.Set("stream", info[4]);
      const double scale = positive_field(arguments, "scale", "fill");
      const uint32_t seed = uint32_field(arguments, "seed", "fill");
      const uint32_t stream = uint32_field(arguments, "stream", "fill");
      zerolm::fill_values(distribution, scale, seed, stream, 0, target.ElementLength(), target.Data());
      return info.Env().Undefined();
    });
  }

  // convertTensor(source: Uint8Array, dtype: 'F32'|'F16'|'BF16', sourceRows, sourceCols, rows: Uint32Array|null,
  // cols: Uint32Array|null, out: Float32Array): the selected rows and columns of a stored little-endian tensor as
  // float32 (see native/tensors/convert.h). Every bound is checked here before any byte is read.
  Napi::Value ConvertTensor(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        fail("E_ARGUMENT", "convertTensor: source must be a Uint8Array");
      zerolm::TensorDtype dtype;
      if (!info[1].IsString() || !zerolm::parse_tensor_dtype(info[1].As<Napi::String>().Utf8Value(), dtype))
        fail("E_UNSUPPORTED", "convertTensor: dtype must be 'F32', 'F16' or 'BF16'");
      Napi::Object arguments = Napi::Object::New(info.Env());
      arguments.Set("sourceRows", info[2]);
      arguments.Set("sourceCols", info[3]);
      const size_t source_rows = dimension_field(arguments, "sourceRows", "convertTensor");
      const size_t source_cols = dimension_field(arguments, "sourceCols", "convertTensor");
      auto indices = [&](const Napi::Value& value, const char* name) -> Napi::Uint32Array {
        if (value.IsNull() || value.IsUndefined()) return Napi::Uint32Array();
        if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
          fail("E_ARGUMENT", std::string("convertTensor: ") + name + " must be a Uint32Array or null");
        return value.As<Napi::Uint32Array>();
      };
      const Napi::Uint32Array rows = indices(info[4], "rows");
      const Napi::Uint32Array cols = indices(info[5], "cols");
      if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
        fail("E_ARGUMENT", "convertTensor: out must be a Float32Array");
      // No JS runs from here on: lengths and addresses are stable.
      const Napi::Uint8Array source = info[0].As<Napi::Uint8Array>();
      Napi::Float32Array out = info[6].As<Napi::Float32Array>();
      const double elements = static_cast<double>(source_rows) * static_cast<double>(source_cols);
      if (elements * static_cast<double>(zerolm::dtype_bytes(dtype)) > static_cast<double>(source.ByteLength()))
        fail("E_SHAPE", "convertTensor: source holds fewer bytes than sourceRows * sourceCols elements");
      const uint32_t* row_data = rows.IsEmpty() ? nullptr : rows.Data();
      const uint32_t* col_data = cols.IsEmpty() ? nullptr : cols.Data();
      const size_t row_count = rows.IsEmpty() ? source_rows : rows.ElementLength();
      const size_t col_count = cols.IsEmpty() ? source_cols : cols.ElementLength();
      for (size_t i = 0; row_data != nullptr && i < row_count; ++i)
        if (row_data[i] >= source_rows) fail("E_SHAPE", "convertTensor: rows[" + std::to_string(i) + "] is out of range");
      for (size_t j = 0; col_data != nullptr && j < col_count; ++j)
        if (col_data[j] >= source_cols) fail("E_SHAPE", "convertTensor: cols[" + std::to_string(j) + "] is out of range");
      if (static_cast<double>(row_count) * static_cast<double>(col_count) != static_cast<double>(out.ElementLength()))
        fail("E_SHAPE", "convertTensor: out must hold exactly the selected rows * cols values");
      zerolm::gather_to_float32(source.Data(), dtype, source_cols, row_data, row_count, col_data, col_count, out.Data());
      return info.Env().Undefined();
    });
  }

  Napi::Value Simd(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), zerolm::active_simd()); }

  // Threads a batch asks for when the caller names none: the pool's limit.
  Napi::Value DefaultThreads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), zerolm::concurrency_limit());
  }

  // concurrency(limit?) -> the limit in force: threads that may compute at once in this process, over every batch,
  // environment and worker thread (the pool is process-wide). With an integer from 1 to 1024, sets it first.
  Napi::Value Concurrency(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (!info[0].IsUndefined()) {
        if (!info[0].IsNumber()) fail("E_ARGUMENT", "concurrency must be a number");
        const double limit = info[0].As<Napi::Number>().DoubleValue();
        if (!(limit >= 1 && limit <= kMaxThreads && std::floor(limit) == limit))
          fail("E_ARGUMENT", "concurrency must be an integer from 1 to 1024");
        zerolm::set_concurrency_limit(static_cast<int>(limit));
      }
      return Napi::Number::New(info.Env(), zerolm::concurrency_limit());
    });
  }

  Napi::Value AvailableCores(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), zerolm::available_cores());
  }

  // Test hook: philox4x32_10([c0, c1, c2, c3], [k0, k1]) -> Uint32Array(4)
  Napi::Value Philox(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      uint32_t counter[4], key[2];
      for (int part = 0; part < 2; ++part) {
        if (!info[part].IsArray()) fail("E_ARGUMENT", "philox4x32_10 takes (counter[4], key[2])");
        const Napi::Array words = info[part].As<Napi::Array>();
        const uint32_t length = part == 0 ? 4 : 2;
        if (words.Length() != length) fail("E_ARGUMENT", "philox4x32_10 takes (counter[4], key[2])");
        Napi::Object holder = Napi::Object::New(info.Env());
        for (uint32_t i = 0; i < length; ++i) {
          holder.Set("word", words.Get(i));
          (part == 0 ? counter : key)[i] = uint32_field(holder, "word", "philox4x32_10");
        }
      }
      const zerolm::PhiloxBlock block = zerolm::philox4x32_10(counter, key);
      Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), 4);
      for (int i = 0; i < 4; ++i) out[i] = block.word[i];
      return out;
    });
  }

  std::shared_ptr<LiveBatches> live_ = std::make_shared<LiveBatches>();
};

// A napi_async_work, deleted with its owner (or earlier, by reset()). JS thread only.
class AsyncWork {
 public:
  AsyncWork() = default;
  ~AsyncWork() { reset(); }
  AsyncWork(const AsyncWork&) = delete;
  AsyncWork& operator=(const AsyncWork&) = delete;

  void create(napi_env env, napi_value name, napi_async_execute_callback execute, napi_async_complete_callback complete,
              void* data) {
    if (napi_create_async_work(env, nullptr, name, execute, complete, data, &work_) != napi_ok) {
      work_ = nullptr;
      throw Napi::Error::New(env);
    }
    env_ = env;
  }
  napi_async_work get() const { return work_; }
  void reset() {
    if (work_ != nullptr) napi_delete_async_work(env_, work_);
    work_ = nullptr;
  }

 private:
  napi_env env_ = nullptr;
  napi_async_work work_ = nullptr;
};

// A promise's resolver, settled at most once: napi frees the deferred on any attempt that gets past its entry checks.
// One left unsettled (the environment stopped first) is freed with the environment.
class Deferred {
 public:
  napi_value create(napi_env env) {
    napi_value promise = nullptr;
    if (napi_create_promise(env, &deferred_, &promise) != napi_ok) throw Napi::Error::New(env);
    return promise;
  }
  void settle(napi_env env, bool resolve, napi_value value) {
    if (deferred_ == nullptr || value == nullptr) return;
    const napi_deferred deferred = deferred_;
    deferred_ = nullptr;
    if (resolve)
      napi_resolve_deferred(env, deferred, value);
    else
      napi_reject_deferred(env, deferred, value);
  }

 private:
  napi_deferred deferred_ = nullptr;
};

class SpectraTask;
// One share of a task's ownership, passed to napi as a callback's data. The callback that receives it adopts it
// into a unique_ptr (Adopt), so the share is released however that callback returns.
using TaskShare = std::shared_ptr<SpectraTask>;
std::unique_ptr<TaskShare> Adopt(void* data) { return std::unique_ptr<TaskShare>(static_cast<TaskShare*>(data)); }

// One asynchronous batch, on raw napi async work plus (with a progress callback) a threadsafe function.
// node-addon-api's AsyncProgressWorker is not used: its threadsafe function keeps a pointer to the worker, so a
// worker whose construction fails (napi_create_promise does while a worker thread is being terminated) is read
// after it was freed when the environment finalizes that function, and at teardown the function can be
// finalized before the work completes, which the worker then releases again.
//
// Ownership (RAII throughout): the task is a shared_ptr. Start builds it with every napi object it needs (the work,
// the deferred, references to the input arrays, the progress function), each a member that frees itself. Two
// callbacks hold a share once it is queued: the work's completion and, with progress, the threadsafe function's
// finalizer. Each runs once on the JS thread, also at environment teardown (Node waits for queued work then), and
// drops its share on return; the last share to go destroys the task. Engine threads reach the threadsafe function
// only under progress_mutex_ while progress_open_, which the finalizer and the completion clear, so no call reaches a
// function Node has finalized.
//
// JS is only touched through raw napi calls whose status is checked: while the environment is stopping
// (worker.terminate(), process.exit() in a worker) every call into JS fails, and then the batch is cancelled and
// its promise, which nobody can observe any more, is left alone.
class SpectraTask {
 public:
  // Builds and queues the task; returns { promise, cancel() }. Throws (AddonError or Napi::Error) on failure,
  // leaving nothing behind that refers to the task.
  static Napi::Value Start(Napi::Env env, const std::shared_ptr<LiveBatches>& live, std::vector<zerolm::MatrixJob> jobs,
                           std::vector<Napi::Reference<Napi::Float32Array>> inputs, int threads, Napi::Value on_progress) {
    const TaskShare task(new SpectraTask(live, std::move(jobs), std::move(inputs), threads));
    const napi_value promise = task->deferred_.create(env);
    if (on_progress.IsFunction()) task->on_progress_ = Napi::Persistent(on_progress.As<Napi::Function>());
    std::shared_ptr<zerolm::BatchControl> control = task->control_;
    Napi::Object handle = Napi::Object::New(env);
    handle.Set("promise", Napi::Value(env, promise));
    handle.Set("cancel", Napi::Function::New(
                             env, [control](const Napi::CallbackInfo&) { control->cancel.store(true); }, "cancel"));
    task->live_->add(control);  // the destructor removes it

    napi_value name = nullptr;
    if (napi_create_string_utf8(env, "zerolm:spectra", NAPI_AUTO_LENGTH, &name) != napi_ok) throw Napi::Error::New(env);
    auto completion_share = std::make_unique<TaskShare>(task);
    task->work_.create(env, name, &SpectraTask::Execute, &SpectraTask::Complete, completion_share.get());
    if (!task->on_progress_.IsEmpty()) {
      auto finalizer_share = std::make_unique<TaskShare>(task);
      if (napi_create_threadsafe_function(env, nullptr, nullptr, name, 0, 1, finalizer_share.get(),
                                          &SpectraTask::ProgressFinalized, task.get(), &SpectraTask::DeliverProgress,
                                          &task->progress_) != napi_ok)
        throw Napi::Error::New(env);
      finalizer_share.release();  // the finalizer's from now on
      task->progress_open_ = true;
    }
    if (napi_queue_async_work(env, task->work_.get()) != napi_ok) {
      task->CloseProgress(napi_tsfn_abort);  // its finalizer drops its share later
      throw make_error(env, "E_NATIVE", "could not queue the batch");
    }
    completion_share.release();  // Complete's from now on
    return handle;
  }

  ~SpectraTask() { live_->remove(control_); }

 private:
  SpectraTask(std::shared_ptr<LiveBatches> live, std::vector<zerolm::MatrixJob> jobs,
              std::vector<Napi::Reference<Napi::Float32Array>> inputs, int threads)
      : live_(std::move(live)),
        jobs_(std::move(jobs)),
        inputs_(std::move(inputs)),
        threads_(threads),
        control_(std::make_shared<zerolm::BatchControl>()) {}

  // Engine thread; `data` is the completion's share, which keeps the task alive until Complete.
  static void Execute(napi_env, void* data) {
    SpectraTask* task = static_cast<TaskShare*>(data)->get();
    try {
      if (task->progress_ != nullptr)
        task->control_->on_job_done = [task](size_t done) { task->SendProgress(done); };
      task->outcome_ = zerolm::run_batch(task->jobs_, task->results_, task->threads_, *task->control_);
    } catch (...) {
      task->outcome_.status = zerolm::BatchStatus::Failed;
      task->outcome_.message = "unexpected native failure";
    }
    task->control_->on_job_done = nullptr;
  }

  // Engine threads (run_batch serialises the calls). Reports are coalesced: one queued call at a time, and it
  // delivers the latest count when it runs.
  void SendProgress(size_t done) {
    done_.store(done);
    if (delivery_queued_.exchange(true)) return;
    std::lock_guard<std::mutex> lock(progress_mutex_);
    if (!progress_open_) return;
    const napi_status status = napi_call_threadsafe_function(progress_, nullptr, napi_tsfn_nonblocking);
    if (status == napi_ok) return;
    if (status == napi_closing) {
      // The environment is stopping; Node has dropped this thread's hold on the function.
      progress_open_ = false;
      control_->cancel.store(true);
    } else {
      delivery_queued_.store(false);  // not queued: let a later report try again
    }
  }

  // JS thread; env is null when Node discards a queued call. `context` is the task, alive while the function is
  // (its finalizer holds a share).
  static void DeliverProgress(napi_env env, napi_value, void* context, void*) {
    if (env == nullptr || context == nullptr) return;
    auto* task = static_cast<SpectraTask*>(context);
    task->delivery_queued_.store(false);
    if (!task->completed_) task->ReportProgress(env);
  }

  // JS thread: calls onProgress(done, total) if the count moved since the last call.
  void ReportProgress(napi_env env) {
    const size_t done = done_.load();
    if (done <= reported_) return;
    reported_ = done;
    if (!Ready(env)) return;
    napi_value callback = nullptr;
    napi_value receiver = nullptr;
    napi_value arguments[2] = {nullptr, nullptr};
    napi_value ignored = nullptr;
    if (napi_get_reference_value(env, static_cast<napi_ref>(on_progress_), &callback) != napi_ok ||
        callback == nullptr || napi_get_undefined(env, &receiver) != napi_ok ||
        napi_create_double(env, static_cast<double>(done), &arguments[0]) != napi_ok ||
        napi_create_double(env, static_cast<double>(jobs_.size()), &arguments[1]) != napi_ok)
      return;
    if (napi_call_function(env, receiver, callback, 2, arguments, &ignored) == napi_ok) return;
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      // A throwing progress callback must not take the batch down; src/native.ts guards it as well.
      napi_value exception = nullptr;
      napi_get_and_clear_last_exception(env, &exception);
    }
    // A call that failed, thrown or not, may be the environment stopping (process.exit() in the callback).
    Ready(env);
  }

  // JS thread, once: the batch has finished (or was cancelled, or the environment is stopping). Drops the
  // completion's share on return.
  static void Complete(napi_env env, napi_status status, void* data) {
    const std::unique_ptr<TaskShare> share = Adopt(data);
    SpectraTask& task = **share;
    try {
      task.Finish(env, status);
    } catch (...) {
      // Nothing may escape into Node's completion callback.
    }
    task.work_.reset();
  }

  void Finish(napi_env env, napi_status status) {
    if (!on_progress_.IsEmpty()) ReportProgress(env);  // the last count, before the promise settles
    completed_ = true;
    CloseProgress(napi_tsfn_abort);  // drops reports still queued
    if (!Ready(env)) return;
    if (status == napi_cancelled) {
      deferred_.settle(env, false, raw_error(env, "E_ABORTED", "The operation was aborted"));
      return;
    }
    if (outcome_.status != zerolm::BatchStatus::Ok) {
      const bool aborted = outcome_.status == zerolm::BatchStatus::Cancelled;
      deferred_.settle(env, false,
                       raw_error(env, aborted ? "E_ABORTED" : "E_NATIVE",
                                 aborted ? "The operation was aborted" : outcome_.message));
      return;
    }
    napi_value results = nullptr;
    try {
      results = results_to_js(Napi::Env(env), results_);
    } catch (...) {
      // Out of memory, or the environment began stopping part-way through.
      if (!Ready(env)) return;
      deferred_.settle(env, false, raw_error(env, "E_NATIVE", "could not build the results"));
      return;
    }
    deferred_.settle(env, true, results);
  }

  // JS thread: the threadsafe function is finalized (after CloseProgress, or by the environment's teardown). Drops
  // the finalizer's share on return.
  static void ProgressFinalized(napi_env, void* data, void*) {
    const std::unique_ptr<TaskShare> share = Adopt(data);
    SpectraTask& task = **share;
    {
      std::lock_guard<std::mutex> lock(task.progress_mutex_);
      task.progress_open_ = false;
    }
    task.control_->cancel.store(true);  // a no-op after completion; at teardown it ends the batch
  }

  // JS thread: releases this side's hold on the threadsafe function; its finalizer follows.
  void CloseProgress(napi_threadsafe_function_release_mode mode) {
    std::lock_guard<std::mutex> lock(progress_mutex_);
    if (!progress_open_) return;
    progress_open_ = false;
    napi_release_threadsafe_function(progress_, mode);
  }

  // True when JS can run; otherwise marks the batch cancelled (the environment is stopping).
  bool Ready(napi_env env) {
    if (can_run_js(env)) return true;
    control_->cancel.store(true);
    return false;
  }

  std::shared_ptr<LiveBatches> live_;
  std::vector<zerolm::MatrixJob> jobs_;
  std::vector<Napi::Reference<Napi::Float32Array>> inputs_;  // keeps the borrowed arrays alive while engine threads read them
  int threads_;
  std::shared_ptr<zerolm::BatchControl> control_;
  std::vector<zerolm::SpectrumResult> results_;
  zerolm::BatchOutcome outcome_;

  AsyncWork work_;
  Deferred deferred_;
  bool completed_ = false;

  Napi::FunctionReference on_progress_;
  napi_threadsafe_function progress_ = nullptr;  // Node owns it; this side's hold ends in CloseProgress
  std::mutex progress_mutex_;
  bool progress_open_ = false;                // guarded by progress_mutex_
  std::atomic<size_t> done_{0};               // latest count from the engine
  std::atomic<bool> delivery_queued_{false};  // a DeliverProgress call is on its way
  size_t reported_ = 0;                       // JS thread: the last count passed to onProgress
};

Napi::Value ZeroLMAddon::SpectraAsync(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    std::vector<Napi::Reference<Napi::Float32Array>> inputs;
    std::vector<zerolm::MatrixJob> jobs = parse_jobs(info[0], &inputs);
    const int threads = parse_threads(info[1]);
    if (!info[2].IsUndefined() && !info[2].IsFunction()) fail("E_ARGUMENT", "onProgress must be a function");
    return SpectraTask::Start(info.Env(), live_, std::move(jobs), std::move(inputs), threads, info[2]);
  });
}

}  // namespace

NODE_API_ADDON(ZeroLMAddon)
