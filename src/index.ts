const x: number = 1; export { x }
