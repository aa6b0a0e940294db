import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
    {
        ignores: [
            'dist/**',
            'dist-test/**',
            'dist-ext-test/**',
            '.dist-test-*/**',
            'bench/results/**',
            '.test-artifacts/**',
            'node_modules/**',
            'test/fixtures/**',
            'examples/**',
        ],
    },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: {
            parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
        },
        rules: {
            '@typescript-eslint/no-floating-promises': [
                'error',
                {
                    // node:test registers these; their promises are awaited by the runner.
                    allowForKnownSafeCalls: [
                        {
                            from: 'package',
                            name: ['describe', 'test', 'it', 'suite', 'before', 'after'],
                            package: 'node:test',
                        },
                    ],
                },
            ],
            '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
            'no-restricted-imports': 'off',
        },
    },
    {
        files: ['src/core/**/*.ts', 'src/cli/**/*.ts'],
        rules: {
            // The engine runs in the CLI and in CI as well as in the editor.
            'no-restricted-imports': ['error', { paths: ['vscode'] }],
        },
    },
    {
        files: ['**/*.mjs'],
        ...tseslint.configs.disableTypeChecked,
        languageOptions: {
            ...tseslint.configs.disableTypeChecked.languageOptions,
            globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
        },
    },
);
