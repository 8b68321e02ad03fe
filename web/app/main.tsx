/** The wallet app's entry: the words, the router under /app, the pages (each loaded when first shown). */
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './app.css';

const root = document.getElementById('root');
if (root) createRoot(root).render(<App />);
