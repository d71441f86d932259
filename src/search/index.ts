/** Search: exact (multiple-choice knapsack per context), evolution (regularized; NSGA-II), random; and the sampler. */
export { search, searchBest, candidateRows, searchAlgorithms, SEARCH_DEFAULTS, type SearchAlgorithm, type SearchOptions, type SearchPick, type SearchResult } from './search';
export { checkBudgets, checkFeasible, costExtremes, slackOf, violation, type Budgets } from './budget';
export { exactDoesNotApply, solveExact, type Candidate, type ExactOutcome } from './exact';
export { nsga2, randomSearch, regularizedEvolution, objectiveNames, type Objective, type Evaluated } from './evolution';
