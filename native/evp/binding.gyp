{
  "targets": [
    {
      "target_name": "veritee_evp",
      "sources": ["evp.c"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wconversion", "-fvisibility=hidden"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
