'use strict';
// querystring-lite 1.2.0
function parse(text) {
  const out = {};
  for (const pair of text.split('&')) {
    const [key, value] = pair.split('=');
    out[decodeURIComponent(key)] = decodeURIComponent(value || '');
  }
  return out;
}

module.exports = { parse };
