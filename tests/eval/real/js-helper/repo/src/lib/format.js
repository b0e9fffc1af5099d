'use strict';

// Formats an amount of euros with two decimals, for every report.
function money(amount) {
  return `€${amount.toFixed(2)}`;
}

function percent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

module.exports = { money, percent };
