{
  "targets": [
    {
      "target_name": "veritee_nsm",
      "sources": ["nsm.c"],
      "cflags": ["-std=c11", "-Wall", "-Wextra", "-Wconversion", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
    }
  ]
}
