/*
 * veritee-evp: the attested channel's hot primitives called straight on the OpenSSL that Node itself
 * carries (the library behind node:crypto), without node:crypto's per-call objects.
 *
 * Why: node:crypto builds a Cipher object per AEAD message, allocates every output and joins the tag on
 * afterwards; for a 64 KiB Noise record that doubles the cost of the cipher itself, and a handshake pays
 * ~3 µs per HMAC where OpenSSL needs ~1. Here every call writes into a buffer the caller passes. No
 * primitive is implemented in this file: each one is an OpenSSL 3 EVP call (ChaCha20-Poly1305, AES-GCM,
 * SHA-256, BLAKE2b, HMAC, X25519).
 *
 * JavaScript interface (all synchronous; misuse throws a TypeError or RangeError with a code
 * ERR_VERITEE_EVP_*, authentication failure is a return value, never an exception):
 *   aeadSeal(aead, key, nonce, ad, parts: Uint8Array[], out)          out = ciphertext ‖ 16-byte tag
 *   aeadOpen(aead, key, nonce, ad, parts: Uint8Array[], out) -> bool  parts = ciphertext ‖ tag (the tag
 *                                                                    may straddle parts); out is wiped
 *                                                                    when authentication fails
 *   digest(md, data, out)            hmac(md, key, data, out)
 *   x25519Generate(publicOut) -> key  x25519Import(privateKey, publicOut) -> key
 *   x25519Agree(key, peerPublic, out) -> bool (false for an all-zero result, RFC 7748 §6.1)
 *   x25519Erase(key)                 frees the private key now (a collected key is freed by its finalizer)
 * Algorithm numbers are the indexes of AEAD_NAMES and MD_NAMES below (index.cjs names them).
 *
 * Every output buffer must have exactly the size the operation produces and must not overlap an input.
 * Keys live in OpenSSL's memory only during a call (the cipher context is reset, which cleanses it,
 * before returning), except X25519 keys, which stay in their EVP_PKEY until erased or collected.
 */
#include <limits.h>
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/opensslv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "veritee-evp needs OpenSSL 3 (Node.js 18 and later carry it)"
#endif

#define TAG_LEN 16
#define AEAD_NONCE_LEN 12 /* RFC 8439 §2.8 and NIST SP 800-38D's recommended 96-bit IV */
#define X25519_LEN 32     /* RFC 7748 §5 */
/* EVP_CipherUpdate takes an int length: longer inputs go in pieces of this size. */
#define UPDATE_CHUNK (1 << 30)
/* The most pieces one message may come in (exported as MAX_PARTS; callers join longer lists first). */
#define MAX_PARTS 1024

static const char *const AEAD_NAMES[] = {"ChaCha20-Poly1305", "AES-256-GCM", "AES-128-GCM"};
static const size_t AEAD_KEY_LEN[] = {32, 32, 16};
static const char *const MD_NAMES[] = {"SHA256", "BLAKE2B-512"}; /* the Noise hashes */
#define AEAD_COUNT (sizeof AEAD_NAMES / sizeof AEAD_NAMES[0])
#define MD_COUNT (sizeof MD_NAMES / sizeof MD_NAMES[0])

/* Per Node environment (main thread or worker): algorithms fetched once, one reusable cipher context. */
typedef struct {
  EVP_CIPHER *aead[AEAD_COUNT];
  EVP_MD *md[MD_COUNT];
  EVP_CIPHER_CTX *cipher_ctx;
} instance_t;

typedef struct {
  EVP_PKEY *pkey; /* NULL once erased */
} x25519_key_t;

static const napi_type_tag X25519_TAG = {0x7665726974656531ULL, 0x7832353531396b79ULL};

typedef struct {
  const uint8_t *data;
  size_t len;
} bytes_t;

/* ---- errors ---------------------------------------------------------------------------------------- */

static napi_value throw_type(napi_env env, const char *code, const char *message) {
  napi_throw_type_error(env, code, message);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *code, const char *message) {
  napi_throw_range_error(env, code, message);
  return NULL;
}

/* For checks inside functions that report success as 1 and failure (an exception is pending) as 0. */
static int range_error(napi_env env, const char *message) {
  throw_range(env, "ERR_VERITEE_EVP_LENGTH", message);
  return 0;
}

static napi_value throw_openssl(napi_env env, const char *what) {
  ERR_clear_error(); /* node:crypto reads OpenSSL's thread error queue: leave nothing behind in it */
  napi_throw_error(env, "ERR_VERITEE_EVP_OPENSSL", what);
  return NULL;
}

static napi_value nothing(napi_env env) {
  napi_value undefined;
  if (napi_get_undefined(env, &undefined) != napi_ok) return NULL;
  return undefined;
}

static napi_value boolean(napi_env env, int value) {
  napi_value result;
  if (napi_get_boolean(env, value != 0, &result) != napi_ok) return NULL;
  return result;
}

/* ---- arguments ------------------------------------------------------------------------------------- */

static int get_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc != expected) {
    throw_type(env, "ERR_VERITEE_EVP_ARGUMENTS", "wrong number of arguments");
    return 0;
  }
  return 1;
}

/* A Uint8Array (Buffer included) as a pointer and length. */
static int get_bytes(napi_env env, napi_value value, bytes_t *out, const char *name) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) {
    throw_type(env, "ERR_VERITEE_EVP_ARGUMENTS", name);
    return 0;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok) return 0;
  if (type != napi_uint8_array) {
    throw_type(env, "ERR_VERITEE_EVP_ARGUMENTS", name);
    return 0;
  }
  out->data = length == 0 ? (const uint8_t *)"" : (const uint8_t *)data;
  out->len = length;
  return 1;
}

static int get_bytes_of_length(napi_env env, napi_value value, size_t length, bytes_t *out, const char *name) {
  if (!get_bytes(env, value, out, name)) return 0;
  if (out->len != length) {
    throw_range(env, "ERR_VERITEE_EVP_LENGTH", name);
    return 0;
  }
  return 1;
}

static int get_index(napi_env env, napi_value value, size_t count, size_t *out) {
  double number;
  /* An integer 0 ≤ n < count, nothing converted (no wrapping of 2^32, no truncation of 1.5). */
  if (napi_get_value_double(env, value, &number) != napi_ok || !(number >= 0) || number >= (double)count ||
      number != (double)(size_t)number) {
    throw_range(env, "ERR_VERITEE_EVP_ALGORITHM", "unknown algorithm number");
    return 0;
  }
  *out = (size_t)number;
  return 1;
}

static int overlaps(const bytes_t *a, const bytes_t *b) {
  if (a->len == 0 || b->len == 0) return 0;
  uintptr_t a0 = (uintptr_t)a->data, b0 = (uintptr_t)b->data;
  return a0 < b0 + b->len && b0 < a0 + a->len;
}

/* The parts of a message: an array of Uint8Arrays, their total length, none overlapping `out`. */
typedef struct {
  bytes_t items[MAX_PARTS];
  uint32_t count;
  size_t total;
} parts_t;

static int get_parts(napi_env env, napi_value value, parts_t *parts) {
  bool is_array = false;
  if (napi_is_array(env, value, &is_array) != napi_ok || !is_array) {
    throw_type(env, "ERR_VERITEE_EVP_ARGUMENTS", "parts must be an array of Uint8Arrays");
    return 0;
  }
  if (napi_get_array_length(env, value, &parts->count) != napi_ok) return 0;
  if (parts->count > MAX_PARTS) {
    throw_range(env, "ERR_VERITEE_EVP_LENGTH", "too many parts");
    return 0;
  }
  parts->total = 0;
  for (uint32_t i = 0; i < parts->count; i++) {
    napi_value element;
    if (napi_get_element(env, value, i, &element) != napi_ok) return 0;
    if (!get_bytes(env, element, &parts->items[i], "parts must be an array of Uint8Arrays")) return 0;
    if (parts->items[i].len > SIZE_MAX - parts->total) {
      throw_range(env, "ERR_VERITEE_EVP_LENGTH", "parts too long");
      return 0;
    }
    parts->total += parts->items[i].len;
  }
  return 1;
}

static int out_is_separate(napi_env env, const bytes_t *out, const bytes_t *inputs, size_t count,
                           const parts_t *parts) {
  for (size_t i = 0; i < count; i++)
    if (overlaps(out, &inputs[i])) goto overlap;
  for (uint32_t i = 0; i < parts->count; i++)
    if (overlaps(out, &parts->items[i])) goto overlap;
  return 1;
overlap:
  throw_range(env, "ERR_VERITEE_EVP_OVERLAP", "the output buffer overlaps an input");
  return 0;
}

static instance_t *instance_of(napi_env env) {
  instance_t *instance = NULL;
  if (napi_get_instance_data(env, (void **)&instance) != napi_ok) return NULL;
  return instance;
}

/* ---- AEAD ------------------------------------------------------------------------------------------ */

/* With `out` NULL the bytes are AAD; otherwise each byte in gives one byte out (these AEADs are streams). */
static int cipher_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len) {
  while (len > 0) {
    int piece = len > UPDATE_CHUNK ? UPDATE_CHUNK : (int)len;
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, in, piece) != 1) return 0;
    if (out != NULL && written != piece) return 0;
    if (out != NULL) out += piece;
    in += piece;
    len -= (size_t)piece;
  }
  return 1;
}

/*
 * Message bytes go to OpenSSL in runs whose length is a multiple of STRIDE, the bytes around piece
 * boundaries gathered in a small stage. On the project's machine (AMD EPYC, OpenSSL 3.0.19) a
 * ChaCha20-Poly1305 seal + open in one call each took 33.5 µs over 65,408 bytes (511 × 128) and 44.7 µs
 * over 65,472 (1,023 × 64), outputs preallocated (2026-11-26, this addon before it staged); a record's
 * pieces (type byte, body, socket reads) rarely fall on such lengths. With the stage every length runs at
 * the faster speed (bench/evp.mjs, last section). The stage holds message bytes and is cleansed at the end.
 */
#define STRIDE 128

typedef struct {
  EVP_CIPHER_CTX *ctx;
  uint8_t *out;
  uint8_t stage[STRIDE];
  size_t staged;
} feeder_t;

static int feed(feeder_t *feeder, const uint8_t *in, size_t len) {
  if (feeder->staged > 0) {
    size_t take = len < STRIDE - feeder->staged ? len : STRIDE - feeder->staged;
    memcpy(feeder->stage + feeder->staged, in, take);
    feeder->staged += take;
    in += take;
    len -= take;
    if (feeder->staged < STRIDE) return 1;
    if (!cipher_update(feeder->ctx, feeder->out, feeder->stage, STRIDE)) return 0;
    feeder->out += STRIDE;
    feeder->staged = 0;
  }
  size_t run = len - len % STRIDE;
  if (run > 0) {
    if (!cipher_update(feeder->ctx, feeder->out, in, run)) return 0;
    feeder->out += run;
  }
  memcpy(feeder->stage, in + run, len - run);
  feeder->staged = len - run;
  return 1;
}

/* Processes what is still staged and cleanses the stage. */
static int feed_end(feeder_t *feeder) {
  int ok = feeder->staged == 0 || cipher_update(feeder->ctx, feeder->out, feeder->stage, feeder->staged);
  feeder->out += feeder->staged;
  feeder->staged = 0;
  OPENSSL_cleanse(feeder->stage, STRIDE);
  return ok;
}

static int cipher_start(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, const bytes_t *key,
                        const bytes_t *nonce, const bytes_t *ad, int encrypt) {
  if (EVP_CipherInit_ex2(ctx, cipher, key->data, nonce->data, encrypt, NULL) != 1) return 0;
  return cipher_update(ctx, NULL, ad->data, ad->len); /* no output buffer: the bytes are AAD */
}

typedef struct {
  const EVP_CIPHER *cipher;
  bytes_t key, nonce, ad, out;
  parts_t parts;
} aead_call_t;

/* Reads and checks (aead, key, nonce, ad, parts, out): out must be exactly the size of the result. */
static int get_aead_call(napi_env env, napi_callback_info info, instance_t *instance, int encrypt,
                         aead_call_t *call) {
  napi_value argv[6];
  size_t aead;
  if (!get_args(env, info, 6, argv) || !get_index(env, argv[0], AEAD_COUNT, &aead)) return 0;
  call->cipher = instance->aead[aead];
  if (!get_bytes_of_length(env, argv[1], AEAD_KEY_LEN[aead], &call->key, "key has the wrong length") ||
      !get_bytes_of_length(env, argv[2], AEAD_NONCE_LEN, &call->nonce, "nonce must be 12 bytes") ||
      !get_bytes(env, argv[3], &call->ad, "ad must be a Uint8Array") || !get_parts(env, argv[4], &call->parts) ||
      !get_bytes(env, argv[5], &call->out, "out must be a Uint8Array"))
    return 0;
  size_t expected;
  if (encrypt) {
    if (call->parts.total > SIZE_MAX - TAG_LEN) return range_error(env, "message too long");
    expected = call->parts.total + TAG_LEN;
  } else {
    if (call->parts.total < TAG_LEN)
      return range_error(env, "ciphertext shorter than its tag");
    expected = call->parts.total - TAG_LEN;
  }
  if (call->out.len != expected)
    return range_error(env, "out has the wrong length for this message");
  const bytes_t inputs[] = {call->key, call->nonce, call->ad};
  return out_is_separate(env, &call->out, inputs, 3, &call->parts);
}

static napi_value aead_seal(napi_env env, napi_callback_info info) {
  instance_t *instance = instance_of(env);
  aead_call_t call;
  if (instance == NULL || !get_aead_call(env, info, instance, 1, &call)) return NULL;
  EVP_CIPHER_CTX *ctx = instance->cipher_ctx;
  uint8_t *out = (uint8_t *)call.out.data;
  size_t body = call.parts.total;
  int ok = cipher_start(ctx, call.cipher, &call.key, &call.nonce, &call.ad, 1);
  feeder_t feeder = {.ctx = ctx, .out = out, .staged = 0};
  for (uint32_t i = 0; ok && i < call.parts.count; i++)
    ok = feed(&feeder, call.parts.items[i].data, call.parts.items[i].len);
  ok = feed_end(&feeder) && ok;
  int final_len = 0;
  ok = ok && EVP_CipherFinal_ex(ctx, out + body, &final_len) == 1 && final_len == 0;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + body) == 1;
  EVP_CIPHER_CTX_reset(ctx); /* cleanses the key schedule */
  if (!ok) {
    OPENSSL_cleanse(out, call.out.len);
    return throw_openssl(env, "AEAD encryption failed in OpenSSL");
  }
  return nothing(env);
}

static napi_value aead_open(napi_env env, napi_callback_info info) {
  instance_t *instance = instance_of(env);
  aead_call_t call;
  if (instance == NULL || !get_aead_call(env, info, instance, 0, &call)) return NULL;
  EVP_CIPHER_CTX *ctx = instance->cipher_ctx;
  uint8_t *out = (uint8_t *)call.out.data;
  const size_t body = call.out.len;
  uint8_t tag[TAG_LEN];
  int ok = cipher_start(ctx, call.cipher, &call.key, &call.nonce, &call.ad, 0);
  /* Body bytes are decrypted piece by piece; the last TAG_LEN bytes, wherever they fall, are the tag. */
  feeder_t feeder = {.ctx = ctx, .out = out, .staged = 0};
  size_t offset = 0;
  for (uint32_t i = 0; ok && i < call.parts.count; i++) {
    const bytes_t *part = &call.parts.items[i];
    size_t in_body = offset >= body ? 0 : (part->len < body - offset ? part->len : body - offset);
    ok = feed(&feeder, part->data, in_body);
    if (in_body < part->len) memcpy(tag + (offset + in_body - body), part->data + in_body, part->len - in_body);
    offset += part->len;
  }
  ok = feed_end(&feeder) && ok;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) == 1;
  int final_len = 0;
  /* The tag comparison happens here, inside OpenSSL, in constant time. */
  ok = ok && EVP_CipherFinal_ex(ctx, out + body, &final_len) == 1 && final_len == 0;
  EVP_CIPHER_CTX_reset(ctx);
  if (!ok) {
    OPENSSL_cleanse(out, body); /* unauthenticated plaintext never reaches the caller */
    ERR_clear_error();
  }
  return boolean(env, ok);
}

/* ---- hashes ---------------------------------------------------------------------------------------- */

static napi_value digest(napi_env env, napi_callback_info info) {
  instance_t *instance = instance_of(env);
  napi_value argv[3];
  size_t md;
  bytes_t data, out;
  if (instance == NULL || !get_args(env, info, 3, argv) || !get_index(env, argv[0], MD_COUNT, &md) ||
      !get_bytes(env, argv[1], &data, "data must be a Uint8Array"))
    return NULL;
  const EVP_MD *type = instance->md[md];
  if (!get_bytes_of_length(env, argv[2], (size_t)EVP_MD_get_size(type), &out, "out has the wrong length"))
    return NULL;
  unsigned int written = 0;
  if (EVP_Digest(data.data, data.len, (uint8_t *)out.data, &written, type, NULL) != 1 || written != out.len)
    return throw_openssl(env, "digest failed in OpenSSL");
  return nothing(env);
}

static napi_value hmac(napi_env env, napi_callback_info info) {
  instance_t *instance = instance_of(env);
  napi_value argv[4];
  size_t md;
  bytes_t key, data, out;
  if (instance == NULL || !get_args(env, info, 4, argv) || !get_index(env, argv[0], MD_COUNT, &md) ||
      !get_bytes(env, argv[1], &key, "key must be a Uint8Array") ||
      !get_bytes(env, argv[2], &data, "data must be a Uint8Array"))
    return NULL;
  const EVP_MD *type = instance->md[md];
  if (!get_bytes_of_length(env, argv[3], (size_t)EVP_MD_get_size(type), &out, "out has the wrong length"))
    return NULL;
  if (key.len > INT_MAX) return throw_range(env, "ERR_VERITEE_EVP_LENGTH", "HMAC key too long");
  unsigned int written = 0;
  if (HMAC(type, key.data, (int)key.len, data.data, data.len, (uint8_t *)out.data, &written) == NULL ||
      written != out.len)
    return throw_openssl(env, "HMAC failed in OpenSSL");
  return nothing(env);
}

/* ---- X25519 ---------------------------------------------------------------------------------------- */

static void x25519_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  x25519_key_t *key = data;
  EVP_PKEY_free(key->pkey); /* frees and cleanses; NULL-safe */
  free(key);
}

/* Wraps `pkey` in a tagged external and writes its public key into `public_out`. Takes ownership. */
static napi_value x25519_wrap(napi_env env, EVP_PKEY *pkey, const bytes_t *public_out) {
  size_t length = X25519_LEN;
  if (EVP_PKEY_get_raw_public_key(pkey, (uint8_t *)public_out->data, &length) != 1 || length != X25519_LEN) {
    EVP_PKEY_free(pkey);
    return throw_openssl(env, "X25519 public key unavailable");
  }
  x25519_key_t *key = malloc(sizeof *key);
  if (key == NULL) {
    EVP_PKEY_free(pkey);
    return throw_openssl(env, "out of memory");
  }
  key->pkey = pkey;
  napi_value external;
  if (napi_create_external(env, key, x25519_finalize, NULL, &external) != napi_ok) {
    x25519_finalize(env, key, NULL);
    return NULL;
  }
  if (napi_type_tag_object(env, external, &X25519_TAG) != napi_ok) return NULL;
  return external;
}

static x25519_key_t *get_x25519_key(napi_env env, napi_value value) {
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &X25519_TAG, &tagged) != napi_ok || !tagged) {
    throw_type(env, "ERR_VERITEE_EVP_ARGUMENTS", "not an X25519 key from this addon");
    return NULL;
  }
  x25519_key_t *key = NULL;
  if (napi_get_value_external(env, value, (void **)&key) != napi_ok) return NULL;
  return key;
}

static napi_value x25519_generate(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  bytes_t public_out;
  if (!get_args(env, info, 1, argv) ||
      !get_bytes_of_length(env, argv[0], X25519_LEN, &public_out, "public key out must be 32 bytes"))
    return NULL;
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
  if (pkey == NULL) return throw_openssl(env, "X25519 key generation failed in OpenSSL");
  return x25519_wrap(env, pkey, &public_out);
}

static napi_value x25519_import(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  bytes_t private_key, public_out;
  if (!get_args(env, info, 2, argv) ||
      !get_bytes_of_length(env, argv[0], X25519_LEN, &private_key, "private key must be 32 bytes") ||
      !get_bytes_of_length(env, argv[1], X25519_LEN, &public_out, "public key out must be 32 bytes"))
    return NULL;
  EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, private_key.data, X25519_LEN);
  if (pkey == NULL) return throw_openssl(env, "X25519 private key import failed in OpenSSL");
  return x25519_wrap(env, pkey, &public_out);
}

static napi_value x25519_agree(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bytes_t peer, out;
  if (!get_args(env, info, 3, argv)) return NULL;
  x25519_key_t *key = get_x25519_key(env, argv[0]);
  if (key == NULL) return NULL;
  if (key->pkey == NULL) {
    napi_throw_error(env, "ERR_VERITEE_EVP_ERASED", "X25519 key was erased");
    return NULL;
  }
  if (!get_bytes_of_length(env, argv[1], X25519_LEN, &peer, "peer public key must be 32 bytes") ||
      !get_bytes_of_length(env, argv[2], X25519_LEN, &out, "out must be 32 bytes"))
    return NULL;
  EVP_PKEY *peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer.data, X25519_LEN);
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
  size_t length = X25519_LEN;
  /* OpenSSL's X25519 derive fails when the shared secret is all zeros (a low-order peer key). */
  int ok = peer_key != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
           EVP_PKEY_derive_set_peer(ctx, peer_key) == 1 &&
           EVP_PKEY_derive(ctx, (uint8_t *)out.data, &length) == 1 && length == X25519_LEN;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer_key);
  if (!ok) {
    OPENSSL_cleanse((uint8_t *)out.data, out.len);
    ERR_clear_error();
  }
  return boolean(env, ok);
}

static napi_value x25519_erase(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  x25519_key_t *key = get_x25519_key(env, argv[0]);
  if (key == NULL) return NULL;
  EVP_PKEY_free(key->pkey);
  key->pkey = NULL;
  return nothing(env);
}

/* ---- module ---------------------------------------------------------------------------------------- */

/*
 * Every failure must reach JavaScript as an exception: a function that returns NULL without one (a
 * Node-API call that failed without throwing) would read as `undefined`, which for aeadSeal means success
 * over an unwritten buffer. The exported functions pass their result through here.
 */
static napi_value fail_closed(napi_env env, napi_value result) {
  if (result != NULL) return result;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) != napi_ok || !pending)
    napi_throw_error(env, "ERR_VERITEE_EVP_INTERNAL", "a Node-API call failed");
  return NULL;
}

#define EXPORTED(name)                                                           \
  static napi_value name##_exported(napi_env env, napi_callback_info info) {    \
    return fail_closed(env, name(env, info));                                    \
  }
EXPORTED(aead_seal)
EXPORTED(aead_open)
EXPORTED(digest)
EXPORTED(hmac)
EXPORTED(x25519_generate)
EXPORTED(x25519_import)
EXPORTED(x25519_agree)
EXPORTED(x25519_erase)

static void instance_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  instance_t *instance = data;
  for (size_t i = 0; i < AEAD_COUNT; i++) EVP_CIPHER_free(instance->aead[i]);
  for (size_t i = 0; i < MD_COUNT; i++) EVP_MD_free(instance->md[i]);
  EVP_CIPHER_CTX_free(instance->cipher_ctx);
  free(instance);
}

static instance_t *instance_new(void) {
  instance_t *instance = calloc(1, sizeof *instance);
  if (instance == NULL) return NULL;
  int ok = (instance->cipher_ctx = EVP_CIPHER_CTX_new()) != NULL;
  for (size_t i = 0; ok && i < AEAD_COUNT; i++) ok = (instance->aead[i] = EVP_CIPHER_fetch(NULL, AEAD_NAMES[i], NULL)) != NULL;
  for (size_t i = 0; ok && i < MD_COUNT; i++) ok = (instance->md[i] = EVP_MD_fetch(NULL, MD_NAMES[i], NULL)) != NULL;
  if (!ok) {
    instance_free(NULL, instance, NULL);
    ERR_clear_error();
    return NULL;
  }
  return instance;
}

NAPI_MODULE_INIT() {
  instance_t *instance = instance_new();
  if (instance == NULL) {
    napi_throw_error(env, "ERR_VERITEE_EVP_UNAVAILABLE", "OpenSSL lacks an algorithm veritee-evp needs");
    return NULL;
  }
  if (napi_set_instance_data(env, instance, instance_free, NULL) != napi_ok) {
    instance_free(env, instance, NULL);
    return NULL;
  }
  const napi_property_descriptor functions[] = {
      {"aeadSeal", NULL, aead_seal_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"aeadOpen", NULL, aead_open_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digest", NULL, digest_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"hmac", NULL, hmac_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"x25519Generate", NULL, x25519_generate_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"x25519Import", NULL, x25519_import_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"x25519Agree", NULL, x25519_agree_exported, NULL, NULL, NULL, napi_enumerable, NULL},
      {"x25519Erase", NULL, x25519_erase_exported, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok)
    return NULL;
  napi_value max_parts;
  if (napi_create_uint32(env, MAX_PARTS, &max_parts) != napi_ok ||
      napi_set_named_property(env, exports, "MAX_PARTS", max_parts) != napi_ok)
    return NULL;
  return exports;
}
