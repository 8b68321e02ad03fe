// What Vite gives the front end's modules: CSS files imported for their side effect.
declare module '*.css';
