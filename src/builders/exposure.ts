// Exposure moved to src/exposure/ (Ingress and Gateway API behind one interface); re-exported
// here so the builders' index keeps one import for everything built for an owner.
export * from '../exposure/index.ts';
