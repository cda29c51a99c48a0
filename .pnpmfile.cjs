// better-sqlite3 has no prebuilt binary reachable here, so node-gyp compiles it; point node-gyp at
// the headers that ship with the installed Node instead of letting it download them.
const path = require('node:path');

module.exports = {
  hooks: {
    updateConfig(config) {
      const nodedir = path.resolve(path.dirname(process.execPath), '..');
      config.extraEnv = { ...(config.extraEnv ?? {}), npm_config_nodedir: nodedir };
      return config;
    },
  },
};
