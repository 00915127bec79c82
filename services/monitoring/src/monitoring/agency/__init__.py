"""Third-party assessment agencies (第三方评估机构), their commissions and their keys."""
