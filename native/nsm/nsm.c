/*
 * veritee-nsm: one raw request to the AWS Nitro Secure Module (/dev/nsm), through its ioctl, with the
 * blocking call on libuv's thread pool (Node-API async work) and a Promise for the result.
 *
 * The device interface, from the Linux kernel (include/uapi/linux/nsm.h, drivers/misc/nsm.c); AWS's
 * aws-nitro-enclaves-nsm-api driver (nsm-driver) issues the same number with the same layout on 64-bit:
 *
 *   struct nsm_iovec { __u64 addr; __u64 len; };
 *   struct nsm_raw   { struct nsm_iovec request; struct nsm_iovec response; };
 *   NSM_IOCTL_RAW = _IOWR(0x0A, 0x0, struct nsm_raw)
 *
 * The request is at most NSM_REQUEST_MAX_SIZE bytes of CBOR (the driver refuses more). The driver copies
 * at most response.len bytes of the answer into response.addr and sets response.len to what it copied,
 * so a buffer of NSM_RESPONSE_MAX_SIZE holds any answer. The addon does not trust that: it refuses a
 * returned length above the buffer it passed, or a rewritten address, and copies out only `len` bytes.
 *
 * JavaScript interface: request(device: string, bytes: Uint8Array) -> Promise<Buffer>. An OS failure
 * rejects with an Error carrying `errno` (positive) and `syscall` ("open" or "ioctl"); a failed check of
 * the driver's answer rejects with an Error whose `code` is ERR_NSM_*. The device is opened for each
 * request (O_RDWR | O_CLOEXEC) and closed before the Promise settles: no descriptor outlives a call.
 */
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#ifndef __linux__
#error "veritee-nsm: the NSM exists only in Linux guests (AWS Nitro Enclaves)"
#endif

/* include/uapi/linux/nsm.h */
#define NSM_MAGIC 0x0A
#define NSM_REQUEST_MAX_SIZE 0x1000
#define NSM_RESPONSE_MAX_SIZE 0x3000

struct nsm_iovec {
  uint64_t addr;
  uint64_t len;
};

struct nsm_raw {
  struct nsm_iovec request;
  struct nsm_iovec response;
};

_Static_assert(sizeof(struct nsm_raw) == 32, "struct nsm_raw is four 64-bit words");

#define NSM_IOCTL_RAW _IOWR(NSM_MAGIC, 0x0, struct nsm_raw)

/* Longest device path accepted (PATH_MAX on Linux, including the terminating NUL). */
#define DEVICE_PATH_MAX 4096
/* A signal may interrupt open() or the ioctl; retry a bounded number of times, then report EINTR. */
#define EINTR_RETRIES 16

enum outcome {
  OUTCOME_OK,
  OUTCOME_OPEN_FAILED,
  OUTCOME_IOCTL_FAILED,
  OUTCOME_IOCTL_RETURNED,    /* ioctl returned neither 0 nor -1 */
  OUTCOME_RESPONSE_ADDRESS,  /* the driver rewrote response.addr */
  OUTCOME_RESPONSE_LENGTH,   /* response.len came back above the buffer's size */
};

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char device[DEVICE_PATH_MAX];
  uint8_t request[NSM_REQUEST_MAX_SIZE];
  size_t request_len;
  uint8_t response[NSM_RESPONSE_MAX_SIZE];
  size_t response_len;
  enum outcome outcome;
  int error_number;
  int ioctl_result;
  uint64_t reported_len;
} nsm_call;

/* ---- the worker thread: no Node-API calls here ---- */

static int open_device(const char *path) {
  for (int attempt = 0; attempt < EINTR_RETRIES; attempt++) {
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0 || errno != EINTR) return fd;
  }
  return -1;
}

static int raw_request(int fd, nsm_call *call, struct nsm_raw *raw) {
  for (int attempt = 0; attempt < EINTR_RETRIES; attempt++) {
    /* Set every field on each attempt: the driver may have written response.len before the signal. */
    raw->request.addr = (uint64_t)(uintptr_t)call->request;
    raw->request.len = call->request_len;
    raw->response.addr = (uint64_t)(uintptr_t)call->response;
    raw->response.len = sizeof call->response;
    int result = ioctl(fd, NSM_IOCTL_RAW, raw);
    if (result != -1 || errno != EINTR) return result;
  }
  return -1;
}

static void execute(napi_env env, void *data) {
  (void)env;
  nsm_call *call = data;
  int fd = open_device(call->device);
  if (fd < 0) {
    call->error_number = errno;
    call->outcome = OUTCOME_OPEN_FAILED;
    return;
  }
  struct nsm_raw raw;
  int result = raw_request(fd, call, &raw);
  int saved_errno = errno;
  close(fd); /* nothing to recover from a failed close of a device opened for one request */
  if (result == -1) {
    call->error_number = saved_errno;
    call->outcome = OUTCOME_IOCTL_FAILED;
    return;
  }
  if (result != 0) {
    call->ioctl_result = result;
    call->outcome = OUTCOME_IOCTL_RETURNED;
    return;
  }
  if (raw.response.addr != (uint64_t)(uintptr_t)call->response) {
    call->outcome = OUTCOME_RESPONSE_ADDRESS;
    return;
  }
  if (raw.response.len > sizeof call->response) {
    call->reported_len = raw.response.len;
    call->outcome = OUTCOME_RESPONSE_LENGTH;
    return;
  }
  call->response_len = (size_t)raw.response.len;
  call->outcome = OUTCOME_OK;
}

/* ---- back on the main thread ---- */

static napi_value make_error(napi_env env, const char *code, const char *message) {
  napi_value code_value = NULL, message_value, error;
  if (code != NULL && napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_value) != napi_ok) return NULL;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &message_value) != napi_ok) return NULL;
  if (napi_create_error(env, code_value, message_value, &error) != napi_ok) return NULL;
  return error;
}

static napi_value os_error(napi_env env, const nsm_call *call, const char *syscall) {
  char message[256];
  snprintf(message, sizeof message, "nsm: %s failed: %s", syscall, strerror(call->error_number));
  napi_value error = make_error(env, NULL, message);
  napi_value errno_value, syscall_value;
  if (error == NULL || napi_create_int32(env, call->error_number, &errno_value) != napi_ok ||
      napi_set_named_property(env, error, "errno", errno_value) != napi_ok ||
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) != napi_ok ||
      napi_set_named_property(env, error, "syscall", syscall_value) != napi_ok) {
    return NULL;
  }
  return error;
}

static napi_value outcome_error(napi_env env, const nsm_call *call) {
  char message[256];
  switch (call->outcome) {
    case OUTCOME_OPEN_FAILED:
      return os_error(env, call, "open");
    case OUTCOME_IOCTL_FAILED:
      return os_error(env, call, "ioctl");
    case OUTCOME_IOCTL_RETURNED:
      snprintf(message, sizeof message, "nsm: ioctl returned %d (expected 0)", call->ioctl_result);
      return make_error(env, "ERR_NSM_IOCTL_RESULT", message);
    case OUTCOME_RESPONSE_ADDRESS:
      return make_error(env, "ERR_NSM_RESPONSE_ADDRESS", "nsm: the driver changed the response address");
    case OUTCOME_RESPONSE_LENGTH:
      snprintf(message, sizeof message, "nsm: the driver reported a %llu-byte response for a %d-byte buffer",
               (unsigned long long)call->reported_len, NSM_RESPONSE_MAX_SIZE);
      return make_error(env, "ERR_NSM_RESPONSE_LENGTH", message);
    case OUTCOME_OK:
    default:
      return make_error(env, "ERR_NSM_INTERNAL", "nsm: unexpected outcome");
  }
}

static void complete(napi_env env, napi_status status, void *data) {
  nsm_call *call = data;
  napi_value value = NULL;
  int resolve = 0;
  if (status != napi_ok) {
    value = make_error(env, "ERR_NSM_CANCELLED", "nsm: the request did not run");
  } else if (call->outcome == OUTCOME_OK) {
    void *copy;
    if (napi_create_buffer_copy(env, call->response_len, call->response, &copy, &value) == napi_ok) {
      resolve = 1;
    } else {
      value = make_error(env, "ERR_NSM_INTERNAL", "nsm: cannot allocate the response buffer");
    }
  } else {
    value = outcome_error(env, call);
  }
  if (value == NULL) value = make_error(env, "ERR_NSM_INTERNAL", "nsm: cannot build the result");
  if (resolve) {
    napi_resolve_deferred(env, call->deferred, value);
  } else {
    napi_reject_deferred(env, call->deferred, value);
  }
  napi_delete_async_work(env, call->work);
  free(call);
}

/* Throws a TypeError or RangeError with a Node-style code and returns NULL. */
static napi_value fail_argument(napi_env env, int range, const char *message) {
  if (range) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
  } else {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  }
  return NULL;
}

/* Copies the device path: a string of 1..DEVICE_PATH_MAX-1 UTF-8 bytes with no NUL inside. */
static int read_device(napi_env env, napi_value value, nsm_call *call) {
  napi_valuetype type;
  size_t length;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) {
    fail_argument(env, 0, "nsm: device must be a string");
    return 0;
  }
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok || length == 0 ||
      length >= sizeof call->device) {
    fail_argument(env, 1, "nsm: device path must be 1 to 4095 bytes");
    return 0;
  }
  size_t copied;
  if (napi_get_value_string_utf8(env, value, call->device, sizeof call->device, &copied) != napi_ok ||
      copied != length || strlen(call->device) != length) {
    fail_argument(env, 0, "nsm: device path must not contain NUL");
    return 0;
  }
  return 1;
}

/* Copies the request: a Uint8Array (or Buffer) of 1..NSM_REQUEST_MAX_SIZE bytes. */
static int read_request(napi_env env, napi_value value, nsm_call *call) {
  bool is_typed_array;
  napi_typedarray_type type;
  size_t length;
  void *bytes;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_typedarray_info(env, value, &type, &length, &bytes, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    fail_argument(env, 0, "nsm: request must be a Uint8Array");
    return 0;
  }
  if (length == 0 || length > sizeof call->request) {
    fail_argument(env, 1, "nsm: request must be 1 to 4096 bytes (NSM_REQUEST_MAX_SIZE)");
    return 0;
  }
  memcpy(call->request, bytes, length);
  call->request_len = length;
  return 1;
}

static napi_value request(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc != 2) return fail_argument(env, 0, "nsm: request(device, bytes) takes two arguments");
  nsm_call *call = calloc(1, sizeof *call);
  if (call == NULL) {
    napi_throw_error(env, "ERR_NSM_INTERNAL", "nsm: out of memory");
    return NULL;
  }
  napi_value promise, name;
  if (!read_device(env, argv[0], call) || !read_request(env, argv[1], call)) {
    free(call);
    return NULL;
  }
  if (napi_create_string_utf8(env, "veritee-nsm", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_promise(env, &call->deferred, &promise) != napi_ok) {
    free(call);
    napi_throw_error(env, "ERR_NSM_INTERNAL", "nsm: cannot create the promise");
    return NULL;
  }
  if (napi_create_async_work(env, NULL, name, execute, complete, call, &call->work) != napi_ok) {
    napi_reject_deferred(env, call->deferred, make_error(env, "ERR_NSM_INTERNAL", "nsm: cannot queue"));
    free(call);
    return promise;
  }
  if (napi_queue_async_work(env, call->work) != napi_ok) {
    napi_delete_async_work(env, call->work);
    napi_reject_deferred(env, call->deferred, make_error(env, "ERR_NSM_INTERNAL", "nsm: cannot queue"));
    free(call);
  }
  return promise;
}

static int export_uint(napi_env env, napi_value exports, const char *name, uint32_t value) {
  napi_value number;
  return napi_create_uint32(env, value, &number) == napi_ok &&
         napi_set_named_property(env, exports, name, number) == napi_ok;
}

NAPI_MODULE_INIT() {
  napi_value function;
  if (napi_create_function(env, "request", NAPI_AUTO_LENGTH, request, NULL, &function) != napi_ok ||
      napi_set_named_property(env, exports, "request", function) != napi_ok ||
      !export_uint(env, exports, "REQUEST_MAX_SIZE", NSM_REQUEST_MAX_SIZE) ||
      !export_uint(env, exports, "RESPONSE_MAX_SIZE", NSM_RESPONSE_MAX_SIZE) ||
      !export_uint(env, exports, "IOCTL_RAW", (uint32_t)NSM_IOCTL_RAW)) {
    return NULL;
  }
  return exports;
}
