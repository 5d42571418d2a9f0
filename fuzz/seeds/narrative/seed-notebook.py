import marimo

# %%
# # Incident alerting: findings
#
# The baseline flags load spikes against a trailing mean.
#
# workbench:begin stage=baseline run=20261201T235254Z-b9d2 metrics=precision,recall
# Lowering the threshold to 1.3 meets the recall goal (0.83 >= 0.8) at the cost of precision (0.51): about one alert in two is a real incident.
#
# | metric | value |
# | --- | --- |
# | precision | 0.5135 |
# | recall | 0.8261 |
#
# _Approved by Demo Analyst <analyst@example.com> on 2026-12-01 (run 20261201T235254Z-b9d2, sha256:4cfd3a42fac1)._
# workbench:end
#
# Next we will try a seasonal baseline.
x = 1
