{
  # node-gyp build of the same sources as CMakeLists.txt (CPU only). `npm run build:gyp`.
  # No file gets -mavx2: the AVX2+FMA kernels (kernels_avx2.cc, x86 only) carry per-function target attributes.
  "variables": {
    "zerolm_defines": [
      "NAPI_VERSION=8",
      "NAPI_CPP_EXCEPTIONS",
      "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
      "NODE_ADDON_API_DISABLE_DEPRECATED",
      "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
    ],
    "zerolm_cflags": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-fexceptions", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "zerolm_native",
      "sources": [
        "native/addon.cc",
        "native/spectrum/bidiagonal.cc",
        "native/spectrum/dense.cc",
        "native/spectrum/kernels_dispatch.cc",
        "native/spectrum/kernels_scalar.cc",
        "native/spectrum/lanczos.cc",
        "native/spectrum/philox.cc",
        "native/spectrum/spectrum.cc",
        "native/spectrum/symmetric_eigen.cc",
        "native/spectrum/team.cc",
        "native/tensors/convert.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["<@(zerolm_defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["<@(zerolm_cflags)"],
      "libraries": ["-lpthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3"]
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } },
      "conditions": [
        ["target_arch=='x64' or target_arch=='ia32'", {
          "defines": ["ZEROLM_HAVE_X86=1"],
          "sources": ["native/spectrum/kernels_avx2.cc"]
        }]
      ]
    }
  ]
}
