/**
 * Cycles between folders, checked apart from the module rules (.dependency-cruiser.cjs) because
 * dependency-cruiser builds its folder graph from every module it reads, and tests must stay out
 * of it: a test in runs/ that drives the whole app through http/ is no reason for runs/ to know http/.
 */
const { options } = require('./.dependency-cruiser.cjs');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle-between-folders',
      comment:
        'Folders that import each other (even by types, even through different files) cannot be understood, ' +
        'tested or moved one without the other.',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    ...options,
    exclude: { path: [options.exclude.path, '\\.test\\.tsx?$', '(^|/)test-support\\.ts$'] },
  },
};
