'use strict';
const TIERS = { gold: 0.1, silver: 0.05 };

function discount(customer, subtotal) {
  const rate = TIERS[customer.loyalty.tier];
  return subtotal * rate;
}

module.exports = { discount };
