{
  "targets": [
    {
      "target_name": "tcp_vitals",
      "sources": [
        "src-native/addon.cc",
        "src-native/syscalls.cc",
        "src-native/sockopt.cc",
        "src-native/queues.cc",
        "src-native/tcp_info.cc",
        "src-native/batch.cc",
        "src-native/pidfd.cc",
        "src-native/deathwatch.cc",
        "src-native/compat.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
