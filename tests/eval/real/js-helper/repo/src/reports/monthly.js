'use strict';
const { money } = require('../lib/format');

function render(rows) {
  const lines = ['Monthly report'];
  for (const row of rows) {
    lines.push(`${row.label}: ${money(row.refund)}`);
  }
  return lines.join('\n');
}

module.exports = { render };
