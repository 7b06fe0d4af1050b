// Unit specs live next to the code (lib/**/*.spec.ts); e2e suites in test/ (*.e2e-spec.ts).
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  testRegex: '(lib/.*\\.spec|test/.*\\.e2e-spec)\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  moduleNameMapper: {
    '^nestjs-wechat-partner-pay$': '<rootDir>/lib/index.ts',
    '^nestjs-wechat-partner-pay/testing$': '<rootDir>/lib/testing/index.ts',
    '^nestjs-wechat-partner-pay/crypto$': '<rootDir>/lib/core/crypto/index.ts',
    '^nestjs-wechat-partner-pay/lifecycle$': '<rootDir>/lib/lifecycle/index.ts',
  },
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
};
