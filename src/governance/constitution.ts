/** The constitution a network starts with unless its genesis gives its own; amended by 2/3 votes. */
export const DEFAULT_CONSTITUTION = `The Commons constitution

1. The network serves open models only: open weights, an open license, and published provenance.
2. Its rules are decided by its members, in the open, through proposals and votes in the public log.
3. One member, one vote. No member or delegate may carry more than a small capped share of the votes.
4. Every decision links to the signed entries behind it, so anyone can audit it.
5. No single operator, company or shareholder may take the network over.
`
