// The compiled addon (node-gyp puts it in build/Release). Loaded lazily by veritee's nitro provider.
module.exports = require('./build/Release/veritee_nsm.node');
