'use strict';
const { discount } = require('../discounts');

function checkout(cart) {
  const subtotal = cart.items.reduce((sum, item) => sum + item.price, 0);
  const off = discount(cart.customer, subtotal);
  return subtotal - off;
}

module.exports = { checkout };
