'use strict';
const { scheduleOf } = require('../db/schedule');

function runAll(jobs) {
  for (const job of jobs) {
    try {
      scheduleOf(job);
    } catch (err) {
      throw new Error(`job ${job.name} has no valid schedule`, { cause: err });
    }
  }
}

module.exports = { runAll };
