// Validates the OpenAPI document in the file named by the first argument against the official
// OpenAPI JSON schema of its version (3.1 for the broker) and checks that every $ref resolves.
// Prints one JSON line: {valid, version, errors}; exits 1 when the document is not valid.
import { Validator } from "@seriousme/openapi-schema-validator";

const validator = new Validator();
const result = await validator.validate(process.argv[2]);
let errors = result.errors ?? [];
if (result.valid) {
    try {
        validator.resolveRefs();
    } catch (error) {
        errors = [{ message: `unresolvable $ref: ${error.message}` }];
    }
}
console.log(JSON.stringify({ valid: result.valid && errors.length === 0, version: validator.version, errors }));
process.exit(result.valid && errors.length === 0 ? 0 : 1);
