'use strict';
const { render } = require('./reports/monthly');

process.stdout.write(render([{ label: 'March', amount: 1200 }, { label: 'April', amount: 900 }]));
