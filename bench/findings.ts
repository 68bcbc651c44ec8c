/** Hand-written analysis appended to docs/PERFORMANCE.md; see the end of this file's text. */
export const FINDINGS = `## Findings

(to be written)
`;
