

@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Title

    <!-- workbench:begin stage=train run=20260308T142233Z-1e2a -->
    Fine at C:\data.
    <!-- workbench:end -->
    """)
    return


@app.cell
def _(mo):
    x = f"{'a'}" + '''b''' # comment "
    mo.md("""<!-- workbench:slot stage=x -->
      indented""")
    return


if __name__ == "__main__":
    app.run()
