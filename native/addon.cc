// N-API surface only: unpack arguments, queue workers, settle promises, map errors.
#include <napi.h>

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

NODE_API_MODULE(zerolm_native, Init)
