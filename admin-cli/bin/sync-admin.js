#!/usr/bin/env node
// Committed shim so the bin is executable without a post-build chmod; the CLI itself is compiled to dist/.
require('../dist/cli.js');
