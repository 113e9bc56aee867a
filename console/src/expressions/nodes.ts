/** The syntax tree (chalicelib/expressions/nodes.py): plain immutable objects, no behaviour. */
import type { Decimal } from './decimal'

export type Node =
  | { readonly type: 'literal'; readonly value: Decimal | string | boolean | null; readonly position: number }
  | { readonly type: 'list'; readonly items: readonly Node[]; readonly position: number }
  | { readonly type: 'field'; readonly name: string; readonly position: number }
  | { readonly type: 'variable'; readonly name: string; readonly position: number } // name includes '$'
  | { readonly type: 'getattr'; readonly target: Node; readonly name: string; readonly position: number }
  | { readonly type: 'index'; readonly target: Node; readonly index: Node; readonly position: number }
  | { readonly type: 'unary'; readonly operator: 'not' | '-'; readonly operand: Node; readonly position: number }
  | { readonly type: 'logical'; readonly operator: 'and' | 'or'; readonly left: Node; readonly right: Node; readonly position: number }
  | { readonly type: 'binary'; readonly operator: string; readonly left: Node; readonly right: Node; readonly position: number }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly Node[]; readonly position: number }

export function children(node: Node): readonly Node[] {
  switch (node.type) {
    case 'literal':
    case 'field':
    case 'variable':
      return []
    case 'list':
      return node.items
    case 'call':
      return node.args
    case 'getattr':
      return [node.target]
    case 'index':
      return [node.target, node.index]
    case 'unary':
      return [node.operand]
    default:
      return [node.left, node.right]
  }
}

/** Every node of a tree, iteratively (no recursion on hostile input). */
export function* walk(tree: Node): Generator<Node> {
  const pending: Node[] = [tree]
  while (pending.length) {
    const node = pending.pop()!
    yield node
    pending.push(...children(node))
  }
}
