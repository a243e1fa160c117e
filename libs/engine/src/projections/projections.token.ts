/** The projections this engine runs: the registry, or what a test puts in its place. */
export const PROJECTIONS = Symbol('PROJECTIONS');
