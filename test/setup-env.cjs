// The SDK warns on every client that releases after January 2027 need Node 22; the notice is in
// the README, so the test output stays readable.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
