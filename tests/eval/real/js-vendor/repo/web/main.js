'use strict';
const { search } = require('./handlers/search');

console.log(search({ path: '/search' }));
