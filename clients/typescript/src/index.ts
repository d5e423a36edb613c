// The hand-written layer and the generated one land here (issue 17).
export {};
