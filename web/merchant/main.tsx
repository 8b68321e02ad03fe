/** The merchant portal's entry: the words, Ant Design, the app. */
import { createRoot } from 'react-dom/client';
import { AntdRoot } from '../shared/antd.tsx';
import { LocaleProvider } from '../shared/i18n.tsx';
import { App } from './App.tsx';
import './portal.css';

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <LocaleProvider>
      <AntdRoot>
        <App />
      </AntdRoot>
    </LocaleProvider>,
  );
