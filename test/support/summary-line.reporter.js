/**
 * Prints the run's totals as one plain closing line, `tests: N passed, N failed, N skipped`, which
 * CI reads to tell a run that tested something from one that ran nothing. Jest always adds its own
 * summary reporter last, so the line is written on the next turn of the event loop, after it.
 */
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`;
    setImmediate(() => process.stderr.write(`\n${line}\n`));
  }
}

module.exports = SummaryLineReporter;
