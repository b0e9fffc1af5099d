'use strict';
const { runAll } = require('./jobs/runner');

runAll([{ name: 'cleanup', schedule: '{"hour": 3}', config: { schedule: '{hour: 3}' } }]);
