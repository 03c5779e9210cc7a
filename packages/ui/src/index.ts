export { layout, widgetFrame, type LayoutProps, type NavLink } from './layout.js'
export { assets } from './assets.js'
