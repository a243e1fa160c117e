/**
 * Prints the run's totals as one plain line, `tests: N passed, N failed, N skipped`, which CI
 * reads to tell a run that tested something from one that ran nothing.
 */
class SummaryLineReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stderr.write(`\ntests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}

module.exports = SummaryLineReporter;
