// The workflow designer's route element: its code (and @xyflow/react, dagre) loads when it opens.
import { lazy, Suspense } from 'react'
import { useTranslation } from 'react-i18next'

const WorkflowDesigner = lazy(() => import('./WorkflowDesigner'))

export default function WorkflowDesignerRoute() {
  const { t } = useTranslation()
  return <Suspense fallback={<p>{t('loading')}</p>}><WorkflowDesigner /></Suspense>
}
