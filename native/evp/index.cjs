// The compiled addon (node-gyp puts it in build/Release), with the algorithm numbers its functions take
// (the order of AEAD_NAMES and MD_NAMES in evp.c). Loaded by veritee's node:crypto backend when present.
const addon = require('./build/Release/veritee_evp.node');

module.exports = {
  ...addon,
  AEAD: { 'chacha20-poly1305': 0, 'aes-256-gcm': 1, 'aes-128-gcm': 2 },
  MD: { 'SHA-256': 0, BLAKE2b: 1 },
};
