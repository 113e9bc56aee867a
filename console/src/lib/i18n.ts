import i18n from 'i18next'
import { initReactI18next } from 'react-i18next'

// The console's own words. Labels of forms, fields, options and actions come from the tenant's
// definitions and are shown as the definitions give them.
const en = {
  appName: 'After-sales console',
  signIn: 'Sign in',
  signInAs: 'Sign in as {{user}}',
  localUsers: 'Local demo users',
  signOut: 'Sign out',
  language: 'Language',
  inbox: 'Inbox',
  inboxEmpty: 'Nothing waits for you.',
  notifications: 'Notifications',
  unread: '{{count}} unread',
  forms: 'Forms',
  dashboards: 'Dashboards',
  newRecord: 'New',
  create: 'Create',
  save: 'Save',
  cancel: 'Cancel',
  edit: 'Edit',
  loading: 'Loading…',
  next: 'Next page',
  previous: 'First page',
  filter: 'Filter',
  clear: 'Clear',
  any: 'Any',
  open: 'Open',
  record: 'Record',
  state: 'State',
  due: 'Due',
  assignee: 'Assigned to',
  actions: 'Actions',
  noActions: 'No action is open to you in this state.',
  requires: 'Needs: {{fields}}',
  comment: 'Comment',
  commentRequired: 'A comment is required',
  history: 'History',
  changed: 'changed {{fields}}',
  by: 'by {{user}}',
  version: 'Version {{version}}',
  saved: 'Saved',
  conflict: 'Someone else changed this record. Reload to see their change.',
  reload: 'Reload',
  error: 'Something went wrong: {{message}}',
  notFound: 'Not found',
  noRecords: 'No records.',
  fieldsYouMayEdit: 'You may edit: {{fields}}',
  nothingToEdit: 'Nothing on this record is editable for you now.',
  delegateTo: 'Delegate to (user id)',
  created: 'Created',
  home: 'Home',
  skip: 'Skip to content',
  latitude: 'Latitude',
  longitude: 'Longitude',
  useMyLocation: 'Use my location',
  uploadTo: 'Add a file to {{field}}',
  uploading: 'Uploading…',
  attachments: 'Files and photos',
  serviceReport: 'Printable service report',
  board: 'Board',
  dispatch: 'Dispatch',
  candidates: 'Candidates',
  whyThisEngineer: 'Why this engineer',
  score: 'Score',
  assign: 'Assign',
  excluded: 'Not eligible',
  moveTo: 'Move to',
  noMoveTo: 'No action open to you leads to {{state}} now.',
  moveNeedsMore: '“{{action}}” needs more (fields or a comment): open the record.',
  boardShowsNewest: 'The board shows the newest {{count}} records.',
}

type Words = typeof en

const zh: Words = {
  appName: '售后服务控制台',
  signIn: '登录',
  signInAs: '以 {{user}} 登录',
  localUsers: '本地演示用户',
  signOut: '退出',
  language: '语言',
  inbox: '待办',
  inboxEmpty: '没有待办事项。',
  notifications: '通知',
  unread: '{{count}} 条未读',
  forms: '表单',
  dashboards: '仪表板',
  newRecord: '新建',
  create: '创建',
  save: '保存',
  cancel: '取消',
  edit: '编辑',
  loading: '加载中…',
  next: '下一页',
  previous: '第一页',
  filter: '筛选',
  clear: '清除',
  any: '全部',
  open: '打开',
  record: '记录',
  state: '状态',
  due: '截止',
  assignee: '处理人',
  actions: '操作',
  noActions: '当前状态下没有可执行的操作。',
  requires: '需要：{{fields}}',
  comment: '备注',
  commentRequired: '必须填写备注',
  history: '历史',
  changed: '修改了 {{fields}}',
  by: '操作人 {{user}}',
  version: '版本 {{version}}',
  saved: '已保存',
  conflict: '该记录已被他人修改，请刷新查看。',
  reload: '刷新',
  error: '出错了：{{message}}',
  notFound: '未找到',
  noRecords: '没有记录。',
  fieldsYouMayEdit: '可编辑：{{fields}}',
  nothingToEdit: '当前没有可编辑的字段。',
  delegateTo: '转交给（用户 ID）',
  created: '已创建',
  home: '首页',
  skip: '跳到内容',
  latitude: '纬度',
  longitude: '经度',
  useMyLocation: '使用我的位置',
  uploadTo: '为 {{field}} 添加文件',
  uploading: '上传中…',
  attachments: '文件和照片',
  serviceReport: '可打印的服务报告',
  board: '看板',
  dispatch: '派工',
  candidates: '候选工程师',
  whyThisEngineer: '为什么是这位工程师',
  score: '得分',
  assign: '派给',
  excluded: '不符合条件',
  moveTo: '移到',
  noMoveTo: '当前没有可执行的操作能到达 {{state}}。',
  moveNeedsMore: '“{{action}}”还需要字段或备注：请打开记录。',
  boardShowsNewest: '看板显示最新的 {{count}} 条记录。',
}

export const LANGUAGES = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
]

const LANGUAGE_KEY = 'aftersales.language'

/** zh-CN for a Chinese browser, English otherwise; a choice made in the console wins. */
export function initialLanguage(): string {
  const chosen = localStorage.getItem(LANGUAGE_KEY)
  if (chosen && LANGUAGES.some((l) => l.code === chosen)) return chosen
  const browser = navigator.languages?.[0] ?? navigator.language ?? 'en'
  return browser.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

export function chooseLanguage(code: string): void {
  localStorage.setItem(LANGUAGE_KEY, code)
  void i18n.changeLanguage(code)
  document.documentElement.lang = code
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, 'zh-CN': { translation: zh } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false }, // React escapes
})
document.documentElement.lang = i18n.language

export default i18n
