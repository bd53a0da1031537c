{
  "targets": [
    {
      "target_name": "kubelvs_native",
      "sources": [
        "src/addon.cc",
        "src/system_error.cc",
        "src/ip_address.cc",
        "src/netlink_socket.cc",
        "src/raw_ip_socket.cc",
        "src/scheduling.cc",
        "src/packet_socket.cc",
        "src/thread_exit_watch.cc",
        "src/js_options.cc",
        "src/outgoing_datagram.cc",
        "src/monotonic_timer.cc",
        "src/periodic_sender.cc",
        "src/periodic_sender_thread.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden"]
    }
  ]
}
