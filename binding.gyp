# The native CPU backend (src/backend/native/ loads build/Release/ddar_native.node).
# No -march=native anywhere: the *_avx2.cc / *_avx512.cc files enable their instruction sets
# with `#pragma GCC target` and are only called after a run-time CPU check (native/cpu.cc);
# on other architectures they compile to nothing and the portable path is used.
{
  "targets": [
    {
      "target_name": "ddar_native",
      "sources": [
        "native/addon.cc",
        "native/threadpool.cc",
        "native/cpu.cc",
        "native/simd_scalar.cc",
        "native/simd_avx2.cc",
        "native/simd_avx512.cc",
        "native/gemm.cc",
        "native/attention.cc",
        "native/norm.cc",
        "native/elementwise.cc",
        "native/layout.cc",
        "native/conv.cc",
        "native/winograd.cc",
        "native/flow.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags!": ["-O2", "-O0"],
      "cflags_cc!": ["-O2", "-O0", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"]
      }
    }
  ]
}
