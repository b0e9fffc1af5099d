'use strict';
const { parse } = require('../vendor/querystring-lite');

function search(request) {
  const params = parse(request.query);
  return { q: params.q || '', page: Number(params.page || 1) };
}

module.exports = { search };
