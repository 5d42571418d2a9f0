# %%
# workbench:begin stage=a run=20260308T142233Z-1e2a
# x
# workbench:end
