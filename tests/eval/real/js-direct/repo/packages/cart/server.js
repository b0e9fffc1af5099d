'use strict';
const { checkout } = require('./src/routes/checkout');

console.log('cart listening on :8080');
checkout({ items: [{ price: 20 }, { price: 5 }], customer: { id: 'c-9', tier: 'gold' } });
