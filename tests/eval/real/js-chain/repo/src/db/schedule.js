'use strict';

function scheduleOf(job) {
  return JSON.parse(job.config.schedule);
}

module.exports = { scheduleOf };
