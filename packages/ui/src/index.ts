export { layout, widgetFrame, type LayoutProps, type NavLink } from './layout.js'
export { assetUrl, assetRoutes, AssetStore, contentHash, hashedName, parseAssetName, IMMUTABLE, REVALIDATE } from './assets.js'
export { assets, layoutTemplate, fillTemplate, MARKERS, type TemplateValues } from './template.js'
export { devOrigin, DEV_DEFAULT_URL, DEV_SCRIPT } from './dev.js'
